"""A local Infobip Numbers API sandbox: same paths, JSON, error bodies and chaos, in memory.

See docs/infobip-sandbox.md. Start in-process with :class:`InfobipSandbox` or from a shell with
``python -m providers.infobip.sandbox``.
"""

from .config import CHAOS_MODES, ERROR_SHAPES, SandboxSettings
from .server import DEFAULT_API_KEY, DEFAULT_PREFIXES, InfobipSandbox
from .store import NumberRecord, default_inventory

__all__ = [
    "CHAOS_MODES",
    "DEFAULT_API_KEY",
    "DEFAULT_PREFIXES",
    "ERROR_SHAPES",
    "InfobipSandbox",
    "NumberRecord",
    "SandboxSettings",
    "default_inventory",
]
