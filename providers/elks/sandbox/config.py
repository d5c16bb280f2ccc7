"""Runtime knobs of the sandbox: behaviour (``SandboxConfig``) and fault injection (``Chaos``)."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields, replace
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


@dataclass(frozen=True)
class ChaosSettings:
    rate: float = 0.0  # 0..1; 0 and 1 are deterministic
    mode: str = "503"  # one of CHAOS_MODES
    latency: float = 0.0  # seconds added to every affected request (the whole effect of "slow")
    timeout_sleep: float = 3.0  # "timeout": the request IS processed, the answer comes this late
    paths: tuple[str, ...] = ()  # API path prefixes such as "sms" or "/a1/numbers"; () = all
    methods: tuple[str, ...] = ()  # e.g. ("POST",); () = all
    count: int = 0  # only the next N matching requests; 0 = no limit


@dataclass
class Chaos:
    settings: ChaosSettings = field(default_factory=ChaosSettings)
    _random: random.Random = field(default_factory=lambda: random.Random(46))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _left: int = 0

    def set(self, **values: Any) -> ChaosSettings:
        if "paths" in values:
            values["paths"] = tuple(_norm(p) for p in _as_list(values["paths"]))
        if "methods" in values:
            values["methods"] = tuple(m.upper() for m in _as_list(values["methods"]))
        for key in ("rate", "latency", "timeout_sleep"):
            if key in values:
                values[key] = float(values[key])
        if "count" in values:
            values["count"] = int(values["count"])
        if "mode" in values:
            values["mode"] = str(values["mode"])
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

    def pick(self, method: str, api_path: str) -> ChaosSettings | None:
        """The chaos to apply to this request, or None."""
        s = self.settings
        if s.rate <= 0.0:
            return None
        if s.methods and method.upper() not in s.methods:
            return None
        path = _norm(api_path)
        if s.paths and not any(path == p or path.startswith(p + "/") for p in s.paths):
            return None
        with self._lock:
            if s.count and self._left <= 0:
                return None
            hit = s.rate >= 1.0 or self._random.random() < s.rate
            if hit and s.count:
                self._left -= 1
            return s if hit else None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return [str(v) for v in value or ()]


def _norm(path: str) -> str:
    path = path.strip().lower().strip("/")
    return path[3:] if path.startswith("a1/") else ("" if path == "a1" else path)


def chaos_dict(settings: ChaosSettings) -> dict[str, Any]:
    data = asdict(settings)
    data["paths"] = list(settings.paths)
    data["methods"] = list(settings.methods)
    return data
