"""Outbound HTTP from the sandbox to the app, the way 46elks calls your server.

Jobs run on a small thread pool. Each POST is form-encoded, retried on non-2xx/errors with
exponential backoff (unless it is a call webhook, where 46elks does not retry), and every attempt
is logged for tests and ``GET /sandbox/deliveries``. ``reset()`` bumps a generation counter so
jobs left over from a previous test stop at their next step instead of leaking into the next.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from .config import SandboxConfig

log = logging.getLogger(__name__)

_LOG_MAX = 5000


class Cancelled(Exception):
    """The sandbox was reset or stopped while a job was running."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str


class Job:
    """What a background job may do: wait, and post callbacks."""

    def __init__(self, dispatcher: Dispatcher, generation: int) -> None:
        self._d = dispatcher
        self._generation = generation

    @property
    def current(self) -> bool:
        """False once the sandbox was reset or stopped after this job was submitted."""
        return self._d.generation == self._generation

    def sleep(self, seconds: float) -> None:
        self._d.sleep(self._generation, seconds)

    def post(
        self, kind: str, url: str, data: Mapping[str, Any], *, ref: str = "", retry: bool = True
    ) -> Answer | None:
        """POST and return the 2xx answer, or None once every attempt failed."""
        return self._d.post(self._generation, kind, url, data, ref=ref, retry=retry)


class Dispatcher:
    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._cond = threading.Condition()
        self._pending = 0
        self._generation = 0
        self._seq = 0
        self._log: list[dict[str, Any]] = []
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="elks-sandbox-cb")

    @property
    def generation(self) -> int:
        return self._generation

    def submit(self, work: Callable[[Job], None]) -> None:
        with self._cond:
            self._pending += 1
            job = Job(self, self._generation)

        def run() -> None:
            try:
                work(job)
            except Cancelled:
                pass
            except Exception:
                # After a reset/stop, leftovers may hit a closed store: not worth a traceback.
                if job.current:
                    log.exception("sandbox background job failed")
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

        self._executor.submit(run)

    def sleep(self, generation: int, seconds: float) -> None:
        with self._cond:
            if self._cond.wait_for(lambda: self._generation != generation, timeout=seconds):
                raise Cancelled

    def post(
        self,
        generation: int,
        kind: str,
        url: str,
        data: Mapping[str, Any],
        *,
        ref: str,
        retry: bool,
    ) -> Answer | None:
        cfg = self._config
        attempts = max(1, cfg.callback_attempts) if retry else 1
        payload = {k: str(v) for k, v in data.items() if v is not None}
        for attempt in range(1, attempts + 1):
            if self._generation != generation:
                raise Cancelled
            status: int | None = None
            body = error = content_type = ""
            try:
                response = requests.post(url, data=payload, timeout=cfg.callback_timeout)
                status, body = response.status_code, response.text[:2000]
                content_type = response.headers.get("Content-Type", "")
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            ok = status is not None and 200 <= status < 300
            self._record(
                generation,
                {
                    "kind": kind,
                    "ref": ref,
                    "url": url,
                    "data": payload,
                    "attempt": attempt,
                    "status": status,
                    "ok": ok,
                    "error": error,
                    "body": body,
                },
            )
            if ok and status is not None:
                return Answer(status, body, content_type)
            if attempt < attempts:
                self.sleep(generation, cfg.callback_backoff * 2 ** (attempt - 1))
        return None

    def _record(self, generation: int, entry: dict[str, Any]) -> None:
        with self._cond:
            if generation != self._generation:
                raise Cancelled
            self._seq += 1
            entry = {"seq": self._seq, "at": datetime.now(UTC).isoformat(), **entry}
            self._log.append(entry)
            del self._log[:-_LOG_MAX]
            self._cond.notify_all()

    def deliveries(self, kind: str | None = None, ref: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [
                dict(e)
                for e in self._log
                if (kind is None or e["kind"] == kind) and (ref is None or e["ref"] == ref)
            ]

    def wait_for(
        self,
        predicate: Callable[[list[dict[str, Any]]], bool],
        timeout: float,
    ) -> bool:
        """Wait until ``predicate(all attempts so far)`` is true."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(list(self._log)), timeout=timeout)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)

    def reset(self) -> None:
        with self._cond:
            self._generation += 1
            self._log.clear()
            self._cond.notify_all()

    def close(self) -> None:
        self.reset()
        self._executor.shutdown(wait=False, cancel_futures=True)
