"""Runtime knobs of the sandbox: behaviour (``SandboxConfig``) and which faults it can inject."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

CHAOS_MODES = ("slow", "429", "500", "502", "503", "timeout")


@dataclass
class SandboxConfig:
    page_size: int = 100  # default list page size (tests lower it to force several pages)
    callback_attempts: int = 5  # 46elks retries SMS/MMS/delivery callbacks at least 5 times
    callback_backoff: float = 0.5  # seconds before retry n: backoff * 2**(n-1)
    callback_timeout: float = 5.0
    event_delay: float = 0.2  # pause between a send and each of its delivery reports / call steps
    fail_suffix: str | None = None  # recipients ending with this fail (SMS failed, call busy)
    call_duration: int = 12  # seconds an answered call lasts
    recording_duration: int = 5
    public_url: str | None = None  # base of wav/image URLs in callbacks; default: bound address

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown setting {key!r}")
            current = getattr(self, key)
            if value in ("", None) and key in ("fail_suffix", "public_url"):
                value = None
            elif isinstance(current, bool):
                value = str(value).lower() in ("1", "true", "yes")
            elif isinstance(current, int) and not isinstance(current, bool):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            elif value is not None:
                value = str(value)
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def chaos_path(path: str) -> str:
    """46elks API paths compare without the /a1 prefix, case and slashes."""
    path = path.strip().lower().strip("/")
    return path[3:] if path.startswith("a1/") else ("" if path == "a1" else path)
