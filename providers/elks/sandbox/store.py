"""SQLite state of the sandbox: one connection guarded by one lock.

The lock is re-entrant and public (``store.lock``) so a handler can read-check-write (e.g.
"charge unless over the usage limit") atomically. A file path keeps state across restarts;
``":memory:"`` is for tests.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .rules import ApiError, Clock, ts

SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    id TEXT PRIMARY KEY, username TEXT, password TEXT, displayname TEXT, email TEXT,
    currency TEXT, balance INTEGER, mobilenumber TEXT, created TEXT);
CREATE TABLE IF NOT EXISTS subaccounts (
    id TEXT PRIMARY KEY, name TEXT, secret TEXT, usagelimit INTEGER, balanceused INTEGER,
    active INTEGER, created TEXT, deactivated TEXT);
CREATE TABLE IF NOT EXISTS pool (
    number TEXT PRIMARY KEY, country TEXT, category TEXT, capabilities TEXT);
CREATE TABLE IF NOT EXISTS numbers (
    id TEXT PRIMARY KEY, owner TEXT, number TEXT, country TEXT, category TEXT,
    capabilities TEXT, active INTEGER, sms_url TEXT, mms_url TEXT, voice_start TEXT,
    sms_replies INTEGER, name TEXT, created TEXT, expires TEXT, deallocated TEXT);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, kind TEXT, owner TEXT, direction TEXT, sender TEXT, recipient TEXT,
    message TEXT, status TEXT, cost INTEGER, parts INTEGER, created TEXT, delivered TEXT,
    whendelivered TEXT, flashsms INTEGER, images TEXT);
CREATE TABLE IF NOT EXISTS calls (
    id TEXT PRIMARY KEY, owner TEXT, direction TEXT, sender TEXT, recipient TEXT, state TEXT,
    created TEXT, start TEXT, duration INTEGER, cost INTEGER, voice_start TEXT,
    whenhangup TEXT, timeout INTEGER, actions TEXT, legs TEXT);
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY, callid TEXT, owner TEXT, created TEXT, duration INTEGER, wav BLOB);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY, mmsid TEXT, owner TEXT, created TEXT, filetype TEXT, digest TEXT,
    data BLOB);
CREATE INDEX IF NOT EXISTS messages_created ON messages (kind, created);
CREATE INDEX IF NOT EXISTS calls_created ON calls (created);
"""

TABLES = ("account", "subaccounts", "pool", "numbers", "messages", "calls", "recordings", "images")

# Default number pool: (country, category, capabilities, the number before the first one).
DEFAULT_POOL: tuple[tuple[str, str, str, int], ...] = (
    ("se", "mobile", "sms,mms,voice", 46766860000),
    ("se", "fixed", "voice", 46101990000),
    ("no", "mobile", "sms,voice", 4759440000),
    ("fi", "mobile", "sms,voice", 358454900000),
    ("dk", "mobile", "sms,voice", 4552700000),
    ("gb", "mobile", "sms,voice", 447700900000),
    ("us", "mobile", "sms,voice", 12025550000),
)


def default_pool(per_country: int = 20) -> list[tuple[str, str, str, str]]:
    """(number, country, category, capabilities) rows; fixed numbers are a quarter."""
    rows = []
    for country, category, caps, first in DEFAULT_POOL:
        count = per_country if category == "mobile" else max(1, per_country // 4)
        rows += [(f"+{first + i}", country, category, caps) for i in range(1, count + 1)]
    return rows


@dataclass(frozen=True)
class Master:
    username: str
    password: str
    balance: int = 100_000_000  # 10 000 SEK
    currency: str = "SEK"
    displayname: str = "Sandbox Reseller AB"
    email: str = "sandbox@example.com"
    mobilenumber: str = "+46700000000"

    @property
    def id(self) -> str:
        # Stable across restarts for the same username.
        return "u" + hashlib.sha256(self.username.encode()).hexdigest()[:32]


class Store:
    def __init__(
        self,
        path: str,
        master: Master,
        pool: Sequence[tuple[str, str, str, str]] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.master = master
        self._initial_pool = list(pool) if pool is not None else default_pool()
        self._pool = list(self._initial_pool)
        self._countries = {row[1] for row in self._pool}
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        with self.lock:
            self._conn.executescript(SCHEMA)
            if self.one("SELECT id FROM account") is None:
                self.reset()
            else:
                # Credentials follow the command line; balances and rows persist.
                self.execute(
                    "UPDATE account SET id = ?, username = ?, password = ?",
                    (master.id, master.username, master.password),
                )

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    def now(self) -> str:
        return ts(self.clock.now())

    def reset(self) -> None:
        """Back to a fresh account and the configured number pool."""
        with self.lock:
            self._pool = list(self._initial_pool)
            self._countries = {row[1] for row in self._pool}
            self.execute("BEGIN")
            for table in TABLES:
                self.execute(f"DELETE FROM {table}")
            m = self.master
            self.execute(
                "INSERT INTO account VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    m.id,
                    m.username,
                    m.password,
                    m.displayname,
                    m.email,
                    m.currency,
                    m.balance,
                    m.mobilenumber,
                    self.now(),
                ),
            )
            self._conn.executemany("INSERT INTO pool VALUES (?, ?, ?, ?)", self._pool)
            self.execute("COMMIT")

    def countries(self) -> set[str]:
        """Countries the sandbox rents numbers in (configured, even if none are left)."""
        rows = self.all("SELECT DISTINCT country FROM pool")
        return self._countries | {r["country"] for r in rows}

    def set_pool(self, country: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """Replace the free numbers of one country; an empty list = "none left"."""
        with self.lock:
            self._pool = [r for r in self._pool if r[1] != country] + list(rows)
            self.execute("DELETE FROM pool WHERE country = ?", (country,))
            self._conn.executemany("INSERT OR REPLACE INTO pool VALUES (?, ?, ?, ?)", rows)
            # Stays known with no rows, so allocation says "none left", not "unsupported".
            self._countries.add(country)

    # -- raw access (callers hold self.lock for multi-step work) ------------------------------

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self._conn.execute(sql, params)

    def one(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self._conn.execute(sql, params).fetchall()]

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))

    def update(self, table: str, row_id: str, fields: Mapping[str, Any]) -> None:
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*fields.values(), row_id))

    def get(self, table: str, row_id: str) -> dict[str, Any] | None:
        return self.one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))

    def page(
        self,
        table: str,
        *,
        where: Iterable[str] = (),
        params: Sequence[Any] = (),
        start: str | None,
        end: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first. As 46elks documents them, ``start`` = "created before" and ``end`` =
        "created after", both exclusive: ``next`` (the last row's ``created``) sent back as
        ``start`` continues after that row, so pages never overlap. ``next`` is set when more
        rows exist."""
        clauses = list(where)
        values = list(params)
        if start is not None:
            clauses.append("created < ?")
            values.append(start)
        if end is not None:
            clauses.append("created > ?")
            values.append(end)
        sql = f"SELECT * FROM {table}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created DESC, id DESC LIMIT ?"
        rows = self.all(sql, (*values, limit + 1))
        if len(rows) > limit:
            rows = rows[:limit]
            return rows, rows[-1]["created"]
        return rows, None

    # -- account money -----------------------------------------------------------------------

    def account(self) -> dict[str, Any]:
        row = self.one("SELECT * FROM account")
        assert row is not None
        return row

    def charge(self, owner: str, cost: int, *, enforce: bool = True) -> None:
        """Debit the master balance and the subaccount's ``balanceused``. With ``enforce``,
        refuse (and charge nothing) when it would pass the usage limit or the balance.
        Call under ``self.lock`` together with the insert the charge pays for."""
        with self.lock:
            sub = self.get("subaccounts", owner)
            limit = sub["usagelimit"] if sub is not None else None
            used = (sub["balanceused"] or 0) if sub is not None else 0
            if enforce and limit is not None and used + cost > limit:
                raise ApiError(403, "Usage limit exceeded for this subaccount")
            if enforce and self.account()["balance"] < cost:
                raise ApiError(402, "Not enough credits on the account")
            if sub is not None:
                self.update("subaccounts", owner, {"balanceused": used + cost})
            self.execute("UPDATE account SET balance = balance - ?", (cost,))

    def insert_image(self, image_id: str, mms_id: str, owner: str, data: bytes) -> None:
        self.insert(
            "images",
            {
                "id": image_id,
                "mmsid": mms_id,
                "owner": owner,
                "created": self.now(),
                "filetype": "png",
                "digest": hashlib.sha1(data).hexdigest(),
                "data": data,
            },
        )
