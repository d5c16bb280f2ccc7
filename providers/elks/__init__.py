"""46elks: the API client (``ElksClient``), its errors and dataclasses.

The local sandbox that speaks the same API lives in :mod:`providers.elks.sandbox`.
"""

from .client import DEFAULT_BASE_URL, MAX_PAGE_SIZE, ElksClient
from .errors import (
    ElksAuthError,
    ElksConnectionError,
    ElksError,
    ElksForbidden,
    ElksInvalidRequest,
    ElksInvalidResponse,
    ElksNotFound,
    ElksRateLimited,
    ElksServerError,
    ElksTimeout,
)
from .types import Account, Call, Image, Mms, Number, Recording, Sms, Subaccount

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PAGE_SIZE",
    "Account",
    "Call",
    "ElksAuthError",
    "ElksClient",
    "ElksConnectionError",
    "ElksError",
    "ElksForbidden",
    "ElksInvalidRequest",
    "ElksInvalidResponse",
    "ElksNotFound",
    "ElksRateLimited",
    "ElksServerError",
    "ElksTimeout",
    "Image",
    "Mms",
    "Number",
    "Recording",
    "Sms",
    "Subaccount",
]
