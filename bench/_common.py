"""Shared plumbing for the benchmarks: environment, database, Redis, processes, statistics.

Every benchmark runs against its own PostgreSQL database (`switchboard_bench` unless
BENCH_DB says otherwise), created and migrated here, and Redis database 14, flushed at the
start. Only 127.0.0.1 is ever contacted. Processes started here are stopped by their own
process group id on exit, including Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# psycopg types every fetchone() as optional; the bench scripts read rows they just wrote.
Connection = Any

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = Path(os.environ.get("BENCH_LOG_DIR", "/tmp/switchboard-bench"))
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "switchboard_bench")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
HOST = "127.0.0.1"

for _url in (PG_SERVER, REDIS_URL):
    if "127.0.0.1" not in _url and "localhost" not in _url:
        sys.exit(f"refusing a non-loopback address: {_url}")


def bench_env(**extra: str) -> dict[str, str]:
    """Production settings (config.settings.base, DEBUG off) pointed at the bench services."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdefghijklmnopqrstu",
            # A fixed, valid Fernet key (32 bytes, urlsafe base64): bench data only.
            "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktMDA=",
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"{PG_SERVER}/{DB_NAME}",
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": "",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PUBLIC_BASE_URL": f"http://{HOST}:8000",
            "ELKS_API_URL": "http://127.0.0.1:9/a1",  # nothing listens: no provider traffic
            "ELKS_USERNAME": "bench",
            "ELKS_PASSWORD": "bench",
            # The manifest storage needs `collectstatic` output in the checkout; the pages
            # benchmark renders templates with {% static %}, so use the plain storage.
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra)
    return env


def django_setup(**extra: str) -> None:
    """Configure Django in this process with the bench environment."""
    os.environ.update(bench_env(**extra))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- PostgreSQL and Redis -----------------------------------------------------------------------


def recreate_database() -> None:
    """Drop and create the bench database, then migrate it (a few seconds)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=bench_env(),
        check=True,
    )


def drop_database() -> None:
    """Drop the bench database (the scripts do this at the end unless --keep-db)."""
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def pg_connect() -> Connection:
    """A plain psycopg connection to the bench database (autocommit)."""
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/{DB_NAME}", autocommit=True)


def pending_events() -> int:
    """Stored provider events not yet processed (the webhook backlog)."""
    with pg_connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM providers_webhookevent WHERE status = 'pending'"
        ).fetchone()
    return int(row[0])


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# --- processes ----------------------------------------------------------------------------------

_started: list[subprocess.Popen[bytes]] = []


def start(name: str, argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a process in its own session; its output goes to LOG_DIR/<name>.log."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / f"{name}.log", "wb")  # noqa: SIM115 (kept open for the child)
    proc = subprocess.Popen(
        list(argv), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    _started.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """TERM the process group this script started (by its id), then KILL if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    # Children of a group leader that already exited (gunicorn/celery workers) go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc in _started:
        _started.remove(proc)


def stop_all() -> None:
    for proc in list(reversed(_started)):
        stop(proc)


def _on_signal(signum: int, frame: object) -> None:
    stop_all()
    sys.exit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r:.80} exited with {proc.returncode}; see {LOG_DIR}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s; see {LOG_DIR}")


def gunicorn_argv(
    port: int, worker_class: str, workers: int, threads: int, app: str = "config.wsgi"
) -> list[str]:
    argv = [sys.executable, "-m", "gunicorn", app, "--bind", f"{HOST}:{port}"]
    if app.startswith("whatif_wsgi"):
        argv += ["--pythonpath", str(ROOT / "bench")]
    argv += ["--workers", str(workers), "--worker-class", worker_class]
    if worker_class == "gthread":
        argv += ["--threads", str(threads)]
    return [*argv, "--log-level", "warning", "--backlog", "2048"]


def celery_worker_argv(
    name: str, *, concurrency: int, queues: str = "", options: Sequence[str] = ()
) -> list[str]:
    """A prefork Celery worker for a benchmark: quiet, no gossip or mingle, its own name."""
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning"]
    if queues:
        argv += ["-Q", queues]
    argv += ["--concurrency", str(concurrency), "--pool", "prefork", *options]
    return [*argv, "--without-gossip", "--without-mingle", "--hostname", f"{name}@%h"]


def bench_tenant(name: str) -> Any:
    """An active tenant with a subaccount whose secret is stored encrypted, like a real one
    (the webhook's number lookup loads the tenant, so it decrypts on every request)."""
    from django.utils.text import slugify
    from django_scopes import scopes_disabled

    from accounts.models import Tenant

    slug = slugify(name)
    with scopes_disabled():
        return Tenant.objects.create(
            name=name,
            slug=slug,
            status=Tenant.Status.ACTIVE,
            usage_limit=1_000_000_000,
            elks_subaccount_id=f"a-{slug}",
            elks_secret="bench-subaccount-secret-0123456789",
        )


# --- a quiet machine ----------------------------------------------------------------------------


def cpu_busy(seconds: float = 2.0) -> float:
    """Share of all cores busy over `seconds` (from /proc/stat), 0..1."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return idle, sum(fields[:8])

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except OSError:
        return 0.0
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


# All waiting for quiet in one run stays within this many seconds (BENCH_QUIET_BUDGET), so a
# benchmark on a machine that never goes quiet still ends in bounded time (and says so).
_quiet_left = float(os.environ.get("BENCH_QUIET_BUDGET", "300"))


def quiet_budget_left() -> float:
    return _quiet_left


def wait_quiet(max_wait: float, threshold: float = 0.15) -> str:
    """Wait (up to max_wait seconds) until other processes leave the cores mostly idle.

    Every benchmark here shares the 2 cores with PostgreSQL, Redis and the load generator;
    anything else running (a test suite, a build) shows up directly in the figures.
    """
    global _quiet_left
    started = time.monotonic()
    deadline = started + min(max_wait, _quiet_left)
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        print(f"  (machine busy: {busy:.0%} of the cores in use by other processes; waiting)")
        time.sleep(5)
        busy = cpu_busy()
    _quiet_left = max(0.0, _quiet_left - (time.monotonic() - started))
    note = f"background CPU {busy:.0%}"
    return note + (" — NOT QUIET, figures are pessimistic" if busy > threshold else "")


class ForeignCPU:
    """Where the CPU went while the block ran, and how much of it other processes took.

    Every process is put in one group: "app" (the sessions this script started: gunicorn,
    Celery), "bench" (this script's own session: itself and wrk, counted when reaped),
    "postgres" (backends of the bench database and the server's own background processes),
    "redis", or "other" (anything else, including PostgreSQL backends of other databases, such
    as another test suite's). Processes that start and end inside the block are counted
    through their parents (cutime/cstime) when reaped.
    Use: `with ForeignCPU() as f: ...`, then `f.share` (other, 0..1 of all cores) and
    `f.cpu` (CPU seconds per group).
    """

    GROUPS = ("app", "bench", "postgres", "redis", "other")

    def __enter__(self) -> ForeignCPU:
        self.start, self.t0 = self._ticks(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = max(1e-3, time.monotonic() - self.t0)
        end = self._ticks()
        tick = os.sysconf("SC_CLK_TCK")
        self.cpu = {g: max(0, end[g] - self.start[g]) / tick for g in self.GROUPS}
        self.share = self.cpu["other"] / (elapsed * (os.cpu_count() or 1))

    @classmethod
    def _ticks(cls) -> dict[str, int]:
        own = os.getsid(0)
        started = {p.pid for p in _started}
        totals = dict.fromkeys(cls.GROUPS, 0)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                comm = stat[stat.index("(") + 1 : stat.rindex(")")]
                rest = stat[stat.rindex(")") + 2 :].split()
                sid = int(rest[3])
                if sid == own:
                    group = "bench"
                elif sid in started:
                    group = "app"
                elif comm == "redis-server":
                    group = "redis"
                elif comm.startswith("postgres"):
                    cmd = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
                    # Backends are "postgres: 15/main: user db host(port) state"; background
                    # processes (checkpointer, WAL writer, ...) have no client address.
                    client = "127.0.0.1(" in cmd or "[local]" in cmd
                    group = "postgres" if not client or DB_NAME in cmd.split() else "other"
                else:
                    group = "other"
                totals[group] += sum(int(x) for x in rest[11:15])
            except (OSError, ValueError, IndexError):
                continue
        return totals


# --- reporting ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (p in 0..100)."""
    if not values:
        return float("nan")
    rank = max(1, min(len(values), round(p / 100 * len(values) + 0.5)))
    return values[rank - 1]


def machine() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except OSError:
            return ""

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = git("rev-parse", "--short", "HEAD")
    dirty = " + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    if not commit:  # an exported tree (git archive): say which commit it came from
        commit, dirty = os.environ.get("BENCH_SOURCE", "(not a git checkout)"), ""
    return (
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} · {os.cpu_count()} cores ({cpu}) · "
        f"Python {platform.python_version()} · commit {commit}{dirty}"
    )


# --- wrk ----------------------------------------------------------------------------------------

# Appended to each script's own `init` and `request`: threads are numbered (`tid`, for unique
# ids per thread), 2xx and other answers are counted per thread, and `done` prints one line of
# JSON with the counts, socket errors and latency percentiles (µs).
WRK_HARNESS = r"""
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local good, nok = 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    nok = nok + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "ok": %d, "bad": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, good, nok, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def wrk_run(
    url: str, *, lua: str, args: Sequence[str], duration: int, threads: int, conns: int
) -> dict[str, float]:
    """Run wrk with `lua` (its `init` must set ok, bad = 0, 0) plus the shared harness.

    Returns the harness's figures: requests, ok, bad, socket errors (connect + read + write +
    timeout), seconds, and p50/p90/p99/max/mean in ms.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua + WRK_HARNESS)
        script = f.name
    argv = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s", "--timeout", "5s"]
    argv += ["-s", script, url, "--", *args]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60).stdout
    finally:
        Path(script).unlink()
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    r = json.loads(line[len("WRKJSON ") :])
    return {
        "requests": r["requests"],
        "ok": r["ok"],
        "bad": r["bad"],
        "errors": r["connect"] + r["read"] + r["write"] + r["timeout"],
        "seconds": r["duration_us"] / 1e6,
        **{k: r[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "max", "mean")},
    }
