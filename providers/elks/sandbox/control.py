"""The ``/sandbox/...`` control API (no auth: the sandbox is for local use only).

Bodies may be JSON or form-encoded. Each route mirrors a ``SandboxServer`` method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .rules import ApiError

if TYPE_CHECKING:
    from .server import SandboxServer

Params = dict[str, Any]


def _method(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ApiError(405, f"Use {' or '.join(allowed)}")


def _need(params: Params, key: str) -> Any:
    if params.get(key) in (None, ""):
        raise ApiError(400, f'Missing key "{key}"')
    return params[key]


def health(server: SandboxServer, method: str, params: Params) -> Any:
    return {"ok": True, "base_url": server.base_url}


def reset(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "POST")
    server.reset()
    return {"reset": True}


def chaos(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "GET", "POST", "DELETE")
    if method == "DELETE":
        server.clear_chaos()
    elif method == "POST":
        return server.set_chaos(**params)
    return server.chaos.as_dict()


def config(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "GET", "POST")
    if method == "POST":
        return server.configure(**params)
    return server.config.as_dict()


def inbound_sms(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "POST")
    return server.inbound_sms(
        to=_need(params, "to"), from_=_need(params, "from"), message=_need(params, "message")
    )


def inbound_mms(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "POST")
    return server.inbound_mms(
        to=_need(params, "to"),
        from_=_need(params, "from"),
        message=params.get("message"),
        images=int(params.get("images", 1)),
    )


def inbound_call(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "POST")
    return server.inbound_call(to=_need(params, "to"), from_=_need(params, "from"))


def deliveries(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "GET")
    return {"data": server.deliveries(params.get("kind"), params.get("ref"))}


def requests_log(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "GET")
    return {"data": server.api_requests(path=params.get("path"), method=params.get("method"))}


def pool(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "GET", "POST")
    if method == "POST":
        numbers = params.get("numbers") or []
        if isinstance(numbers, str):
            numbers = [n for n in numbers.split(",") if n.strip()]
        server.set_pool(
            str(_need(params, "country")).lower(),
            [n.strip() for n in numbers],
            category=params.get("category", "mobile"),
            capabilities=params.get("capabilities", "sms,mms,voice"),
        )
    rows = server.store.all("SELECT * FROM pool ORDER BY country, number")
    return {"data": rows}


def balance(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "GET", "POST")
    if method == "POST":
        server.set_balance(int(_need(params, "balance")))
    return {"balance": server.account()["balance"]}


def spend(server: SandboxServer, method: str, params: Params) -> Any:
    """Add to a subaccount's spend, as past traffic would have (the demo's seeded history)."""
    _method(method, "POST")
    subaccount, amount = str(_need(params, "subaccount")), int(_need(params, "amount"))
    server.store.execute(
        "UPDATE subaccounts SET balanceused = COALESCE(balanceused, 0) + ? WHERE id = ?",
        (amount, subaccount),
    )
    row = server.get("subaccounts", subaccount)
    if row is None:
        raise ApiError(404, f"No subaccount {subaccount}")
    return {"balanceused": row["balanceused"]}


def state(server: SandboxServer, method: str, params: Params) -> Any:
    _method(method, "GET")
    counts = {
        # [index] one() is optional in general; COUNT(*) always returns a row.
        table: server.store.one(f"SELECT COUNT(*) AS n FROM {table}")["n"]  # type: ignore[index]
        for table in ("subaccounts", "numbers", "pool", "messages", "calls", "recordings", "images")
    }
    account = {k: v for k, v in server.account().items() if k != "password"}
    return {"account": account, "counts": counts, "config": server.config.as_dict()}


CONTROL_ROUTES: dict[str, Callable[[SandboxServer, str, Params], Any]] = {
    "": health,
    "health": health,
    "reset": reset,
    "chaos": chaos,
    "config": config,
    "inbound-sms": inbound_sms,
    "inbound-mms": inbound_mms,
    "inbound-call": inbound_call,
    "deliveries": deliveries,
    "requests": requests_log,
    "pool": pool,
    "balance": balance,
    "spend": spend,
    "state": state,
}
