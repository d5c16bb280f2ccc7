"""A local 46elks sandbox: same ``/a1`` API over real HTTP, SQLite state, callbacks, chaos.

See docs/elks-sandbox.md. Start in-process with :class:`SandboxServer` or from a shell with
``python -m providers.elks.sandbox``.
"""

from .config import CHAOS_MODES, SandboxConfig
from .server import SandboxServer

__all__ = ["CHAOS_MODES", "SandboxConfig", "SandboxServer"]
