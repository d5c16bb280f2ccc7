"""Runtime knobs of the Infobip sandbox: behaviour (``SandboxSettings``) and its fault modes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

CHAOS_MODES = ("slow", "429", "500", "503", "timeout")
ERROR_SHAPES = ("request_error", "resources")


@dataclass
class SandboxSettings:
    # "request_error": {"requestError": {"serviceException": {...}}} (the Numbers API);
    # "resources": {"errorCode", "description", "action", "violations"} (the Resources API).
    error_shape: str = "request_error"
    purchase_status: int = 200  # Infobip documents 200; some accounts see 201
    max_limit: int = 100  # Infobip publishes no maximum; 100 keeps pages realistic

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown setting {key!r}")
            current = getattr(self, key)
            setattr(self, key, int(value) if isinstance(current, int) else str(value))
        if self.error_shape not in ERROR_SHAPES:
            raise ValueError(f"error_shape must be one of {', '.join(ERROR_SHAPES)}")
        if self.purchase_status not in (200, 201):
            raise ValueError("purchase_status must be 200 or 201")
        if self.max_limit < 1:
            raise ValueError("max_limit must be at least 1")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def chaos_path(path: str) -> str:
    """Infobip paths compare as given, with one leading slash and none trailing."""
    return "/" + path.strip().strip("/")
