"""Runtime knobs of the Infobip sandbox: behaviour (``SandboxSettings``) and faults (``Chaos``)."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields, replace
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


@dataclass(frozen=True)
class ChaosSettings:
    rate: float = 0.0  # 0..1; 0 and 1 are deterministic
    mode: str = "503"  # one of CHAOS_MODES
    latency: float = 0.0  # seconds added before handling (the whole effect of "slow")
    timeout_sleep: float = 3.0  # "timeout": the request IS processed, the answer comes this late
    paths: tuple[str, ...] = ()  # request path prefixes, e.g. "/numbers/1/numbers"; () = all
    methods: tuple[str, ...] = ()  # e.g. ("POST",); () = all
    count: int | None = None  # affect only the next N matching requests; None = no limit


@dataclass
class Chaos:
    settings: ChaosSettings = field(default_factory=ChaosSettings)
    _random: random.Random = field(default_factory=lambda: random.Random(47))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _left: int | None = None

    def set(self, **values: Any) -> ChaosSettings:
        if "paths" in values:
            values["paths"] = tuple("/" + p.strip().strip("/") for p in _as_list(values["paths"]))
        if "methods" in values:
            values["methods"] = tuple(m.strip().upper() for m in _as_list(values["methods"]))
        for key in ("rate", "latency", "timeout_sleep"):
            if key in values:
                values[key] = float(values[key])
        if "mode" in values:
            values["mode"] = str(values["mode"])
        if values.get("count") is not None:
            values["count"] = int(values["count"])
        new = replace(ChaosSettings(), **values)
        if new.mode not in CHAOS_MODES:
            raise ValueError(f"mode must be one of {', '.join(CHAOS_MODES)}")
        if not 0.0 <= new.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self.settings = new
            self._left = new.count
        return new

    def clear(self) -> None:
        with self._lock:
            self.settings = ChaosSettings()
            self._left = None

    def pick(self, method: str, path: str) -> ChaosSettings | None:
        """The chaos to apply to this request, or None."""
        with self._lock:
            s = self.settings
            if s.rate <= 0.0 or self._left == 0:
                return None
            if s.methods and method.upper() not in s.methods:
                return None
            if s.paths and not any(path == p or path.startswith(p + "/") for p in s.paths):
                return None
            if s.rate < 1.0 and self._random.random() >= s.rate:
                return None
            if self._left is not None:
                self._left -= 1
            return s

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self.settings)
        data["paths"] = list(self.settings.paths)
        data["methods"] = list(self.settings.methods)
        data["left"] = self._left
        return data


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return [str(v) for v in value or ()]
