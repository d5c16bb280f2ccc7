"""Everything in `make demo` that depends on where it listens, derived from one address.

`manage.py demo --addr HOST:PORT` (or `DEMO_ADDR`, default 127.0.0.1:8000) chooses where the
dashboard listens. From that one value come:

- the public base URL that callbacks (46elks) and set-password links use: ``http://HOST:PORT``,
  or ``http://127.0.0.1:PORT`` when listening on every interface (the sandboxes are local);
- the host names Django answers to (``ALLOWED_HOSTS``): HOST, 127.0.0.1 and localhost, or any
  name when listening on every interface;
- the 46elks sandbox on 127.0.0.1:PORT+46 and the Infobip sandbox on 127.0.0.1:PORT+64
  (8046 and 8064 by default). The offsets are far apart so demos on neighbouring ports
  (8000, 8001, 8010, 8080, 8100 ...) never claim each other's sandbox;
- the state folder: ``.demo/`` for port 8000, ``.demo/<PORT>/`` for any other, so a second demo
  keeps its own database and sandbox numbers (whose callback URLs point at it, not the first).

An explicitly set variable wins over the derived value: PUBLIC_BASE_URL (a tunnel),
SANDBOX_PORT, INFOBIP_SANDBOX_PORT, DEMO_DIR (the state root). No Django here: the demo
settings module calls this before Django's settings exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ADDR = "127.0.0.1:8000"
DEFAULT_PORT = 8000
ELKS_SANDBOX_OFFSET = 46
INFOBIP_SANDBOX_OFFSET = 64
# Hosts that mean "every interface": nothing can be called back on them, so callbacks use
# loopback and any Host header is accepted.
WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}

_ADDR = re.compile(r"^(?:(?P<host>\[[0-9a-fA-F:.]+\]|[^:\[\]]*):)?(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class DemoAddress:
    host: str  # as a URL spells it: IPv6 in brackets
    port: int
    public_base_url: str
    allowed_hosts: list[str]
    elks_sandbox_port: int
    infobip_sandbox_port: int
    state_dir: Path

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def bind_host(self) -> str:
        """The host to listen on (no brackets)."""
        return self.host.strip("[]") or "0.0.0.0"

    @property
    def ipv6(self) -> bool:
        return ":" in self.bind_host

    @property
    def local_url(self) -> str:
        """Where a browser (or the demo itself) on this machine reaches the dashboard."""
        host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
        return f"http://{host}:{self.port}"

    @property
    def elks_api_url(self) -> str:
        return f"http://127.0.0.1:{self.elks_sandbox_port}/a1"

    @property
    def infobip_base_url(self) -> str:
        return f"http://127.0.0.1:{self.infobip_sandbox_port}"

    def environment(self) -> dict[str, str]:
        """Environment defaults for the base settings (which read only the environment)."""
        return {
            "PUBLIC_BASE_URL": self.public_base_url,
            "ALLOWED_HOSTS": ",".join(self.allowed_hosts),
            "ELKS_API_URL": self.elks_api_url,
            "INFOBIP_BASE_URL": self.infobip_base_url,
            "DATABASE_URL": f"sqlite:///{self.state_dir / 'db.sqlite3'}",
            "MEDIA_ROOT": str(self.state_dir / "media"),
        }


def parse_addr(addr: str) -> tuple[str, int]:
    """``"HOST:PORT"``, ``"[::1]:PORT"`` or ``"PORT"`` (on 127.0.0.1) -> (host, port)."""
    match = _ADDR.match(addr.strip())
    if match is None:
        raise ValueError(f"not an address: {addr!r} (expected HOST:PORT or PORT)")
    port = int(match["port"])
    if not 0 < port < 65536:
        raise ValueError(f"not a port: {port}")
    host = match["host"]
    if host is None:
        return "127.0.0.1", port
    return (host or "0.0.0.0"), port


def demo_address(
    addr: str, *, environ: Mapping[str, str] | None = None, base_dir: Path
) -> DemoAddress:
    """Derive every address-dependent demo value from ``addr``; ``environ`` may override."""
    environ = environ or {}
    host, port = parse_addr(addr)
    wildcard = host in WILDCARD_HOSTS
    callback_host = "127.0.0.1" if wildcard else host
    public_base_url = environ.get("PUBLIC_BASE_URL") or f"http://{callback_host}:{port}"
    allowed_hosts = ["*"] if wildcard else list(dict.fromkeys([host, "127.0.0.1", "localhost"]))
    root = Path(environ.get("DEMO_DIR") or base_dir / ".demo")
    return DemoAddress(
        host=host,
        port=port,
        public_base_url=public_base_url.rstrip("/"),
        allowed_hosts=allowed_hosts,
        elks_sandbox_port=int(environ.get("SANDBOX_PORT") or port + ELKS_SANDBOX_OFFSET),
        infobip_sandbox_port=int(
            environ.get("INFOBIP_SANDBOX_PORT") or port + INFOBIP_SANDBOX_OFFSET
        ),
        state_dir=root if port == DEFAULT_PORT else root / str(port),
    )


def addr_from_command_line(argv: Sequence[str]) -> str | None:
    """The ``--addr`` of ``manage.py demo --addr HOST:PORT``, if that is the command line.

    Settings are loaded before a command parses its options, so the demo settings read the
    address here; the command checks it got the same one.
    """
    if len(argv) < 2 or argv[1] != "demo":
        return None
    for i, arg in enumerate(argv[2:], start=2):
        if arg == "--addr" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--addr="):
            return arg.split("=", 1)[1]
    return None
