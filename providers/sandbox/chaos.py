"""Fault injection shared by the sandboxes: fail a share of API requests (by method and path
prefix, optionally only the next N) with an error status, latency or a late answer."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ChaosSettings:
    rate: float = 0.0  # 0..1; 0 and 1 are deterministic
    mode: str = "503"  # one of the sandbox's modes
    latency: float = 0.0  # seconds added to every affected request (the whole effect of "slow")
    timeout_sleep: float = 3.0  # "timeout": the request IS processed, the answer comes this late
    paths: tuple[str, ...] = ()  # API path prefixes (normalised by the sandbox); () = all
    methods: tuple[str, ...] = ()  # e.g. ("POST",); () = all
    count: int | None = None  # only the next N matching requests; None = no limit


class Chaos:
    def __init__(self, *, modes: Sequence[str], seed: int, normalise: Callable[[str], str]) -> None:
        self.modes = tuple(modes)
        self.settings = ChaosSettings()
        self._normalise = normalise
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._left: int | None = None

    def set(self, **values: Any) -> ChaosSettings:
        if "paths" in values:
            values["paths"] = tuple(self._normalise(p) for p in _as_list(values["paths"]))
        if "methods" in values:
            values["methods"] = tuple(m.strip().upper() for m in _as_list(values["methods"]))
        for key in ("rate", "latency", "timeout_sleep"):
            if key in values:
                values[key] = float(values[key])
        if "mode" in values:
            values["mode"] = str(values["mode"])
        if "count" in values:
            # 0, "" and None all mean "no limit", as the control APIs have always read them.
            values["count"] = int(values["count"]) if values["count"] not in (None, "") else None
            values["count"] = values["count"] or None
        new = replace(ChaosSettings(), **values)
        if new.mode not in self.modes:
            raise ValueError(f"mode must be one of {', '.join(self.modes)}")
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
        path = self._normalise(path)
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
