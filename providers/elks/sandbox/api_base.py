"""Shared plumbing of the sandbox's ``/a1`` API: auth, routing, ownership, paging.

Strict on purpose: unknown parameters, JSON bodies, bad numbers or sender ids and oversized
pages are refused with 46elks-style plain-text 4xx answers, so client bugs fail tests.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from providers.sandbox.http import Reply as BaseReply

from .config import SandboxConfig
from .rules import SENDER_ID, ApiError, check_e164, missing, parse_query_time
from .store import Store

if TYPE_CHECKING:
    from .simulate import Simulator

Params = dict[str, str]
RESOURCES = ("me", "subaccounts", "numbers", "sms", "mms", "calls", "recordings", "images")
Row = dict[str, Any]


@dataclass(frozen=True)
class Caller:
    id: str
    is_master: bool


@dataclass(frozen=True)
class Reply(BaseReply):
    @classmethod
    def json(cls, data: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(data).encode())


def allow(params: Params, allowed: set[str]) -> None:
    for key in params:
        if key not in allowed:
            raise ApiError(400, f'Unknown parameter "{key}"')


def require(params: Params, key: str) -> str:
    value = params.get(key, "")
    if not value.strip():
        raise missing(key)
    return value


class ApiBase:
    def __init__(self, store: Store, config: SandboxConfig, simulator: Simulator) -> None:
        self.store = store
        self.config = config
        self.sim = simulator

    # -- auth --------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Caller:
        account = self.store.account()
        if hmac.compare_digest(username, account["username"]) and hmac.compare_digest(
            password, account["password"]
        ):
            return Caller(account["id"], True)
        sub = self.store.get("subaccounts", username)
        if sub and sub["active"] and hmac.compare_digest(password, sub["secret"] or ""):
            return Caller(sub["id"], False)
        raise ApiError(401, "Invalid username or password")

    # -- routing -----------------------------------------------------------------------------

    def handle(self, caller: Caller, method: str, parts: list[str], params: Params) -> Reply:
        if not parts:
            raise ApiError(404, "Not found")
        resource, rest = parts[0].lower(), parts[1:]
        if len(rest) > 1:
            raise ApiError(404, "Not found")
        item = rest[0] if rest else None
        handler: Callable[..., Reply] | None = getattr(
            self, f"{resource}_{method.lower()}_{'item' if item else 'list'}", None
        )
        if handler is None or not resource.isalpha():
            if resource in RESOURCES:
                raise ApiError(405, "Method not allowed")
            raise ApiError(404, "Not found")
        return handler(caller, params, item) if item else handler(caller, params)

    def _owned(self, caller: Caller, table: str, row_id: str) -> Row:
        row = self.store.get(table, row_id)
        if row is None or (not caller.is_master and row["owner"] != caller.id):
            raise ApiError(404, "Not found")  # other subaccounts' objects do not exist
        return row

    def _page(
        self,
        caller: Caller,
        table: str,
        params: Params,
        shape: Callable[[Row], Row],
        *,
        extra: Set[str] = frozenset(),
        where: list[str] | None = None,
        values: list[Any] | None = None,
        owned: bool = True,
    ) -> Reply:
        allow(params, {"limit", "start", "end"} | set(extra))
        limit = self.config.page_size
        if "limit" in params:
            if not params["limit"].isdigit() or not 1 <= int(params["limit"]) <= 100:
                raise ApiError(400, "limit must be between 1 and 100")
            limit = min(int(params["limit"]), self.config.page_size)
        where, values = list(where or []), list(values or [])
        if owned and not caller.is_master:
            where.append("owner = ?")
            values.append(caller.id)
        rows, nxt = self.store.page(
            table,
            where=where,
            params=values,
            start=parse_query_time(params["start"], "start") if "start" in params else None,
            end=parse_query_time(params["end"], "end") if "end" in params else None,
            limit=limit,
        )
        body: Row = {"data": [shape(r) for r in rows]}
        if nxt:
            body["next"] = nxt
        return Reply.json(body)

    def _sender(self, caller: Caller, sender: str, capability: str) -> None:
        """A sender is one of the caller's active numbers with the capability, or a text id."""
        if sender.startswith("+"):
            check_e164(sender, "from")
            clauses, values = ["number = ?", "active = 1"], [sender]
            if not caller.is_master:
                clauses.append("owner = ?")
                values.append(caller.id)
            row = self.store.one(
                f"SELECT capabilities FROM numbers WHERE {' AND '.join(clauses)}", values
            )
            if row is None:
                raise ApiError(400, 'Invalid "from": not one of your active numbers')
            if capability not in row["capabilities"].split(","):
                raise ApiError(400, f'Invalid "from": number has no "{capability}" capability')
        elif not SENDER_ID.fullmatch(sender):
            raise ApiError(
                400,
                'Invalid "from": use one of your numbers in E.164 format, or 3-11 letters '
                "and digits not starting with a digit",
            )
