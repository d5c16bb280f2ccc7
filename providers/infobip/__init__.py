"""Infobip Numbers API: the client (``InfobipClient``), its errors and dataclasses.

The local sandbox that speaks the same API lives in :mod:`providers.infobip.sandbox`.
"""

from .client import DEFAULT_NUMBERS_PREFIX, LEGACY_NUMBERS_PREFIX, InfobipClient
from .errors import (
    InfobipAuthError,
    InfobipConnectionError,
    InfobipError,
    InfobipInvalidRequest,
    InfobipInvalidResponse,
    InfobipNotFound,
    InfobipRateLimited,
    InfobipServerError,
    InfobipTimeout,
)
from .types import InfobipNumber, NumberPage, Price

__all__ = [
    "DEFAULT_NUMBERS_PREFIX",
    "LEGACY_NUMBERS_PREFIX",
    "InfobipAuthError",
    "InfobipClient",
    "InfobipConnectionError",
    "InfobipError",
    "InfobipInvalidRequest",
    "InfobipInvalidResponse",
    "InfobipNotFound",
    "InfobipNumber",
    "InfobipRateLimited",
    "InfobipServerError",
    "InfobipTimeout",
    "NumberPage",
    "Price",
]
