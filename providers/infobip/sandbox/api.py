"""The Numbers API itself: routing, strict validation, documented answers and error bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from providers.sandbox.http import Reply

from .config import SandboxSettings
from .store import Store, render

__all__ = ["Api", "ApiError", "Reply", "dumps", "error_body"]

CAPABILITIES = ("SMS", "VOICE", "MMS", "WHATSAPP", "VIBER")
PURCHASE_FIELDS = ("numberKey", "number", "applicationId", "entityId")
UPDATE_FIELDS = ("applicationId", "entityId")


@dataclass
class ApiError(Exception):
    status: int
    message_id: str
    text: str
    validation_errors: dict[str, list[str]] = field(default_factory=dict)


def _decimal(value: object) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: object) -> bytes:
    return json.dumps(data, default=_decimal).encode()


def error_body(error: ApiError, shape: str) -> bytes:
    """Both documented shapes; 404 has no body at all (as Infobip often answers)."""
    if error.status == 404:
        return b""
    if shape == "resources":
        return dumps(
            {
                "errorCode": f"E{error.status}",
                "description": error.text,
                "action": "Check the request and try again.",
                "violations": [
                    {"property": prop, "violation": problem}
                    for prop, problems in error.validation_errors.items()
                    for problem in problems
                ],
                "resources": [],
            }
        )
    exception: dict[str, Any] = {"messageId": error.message_id, "text": error.text}
    if error.validation_errors:
        exception["validationErrors"] = error.validation_errors
    return dumps({"requestError": {"serviceException": exception}})


def _bad(errors: dict[str, list[str]], text: str = "Bad request") -> ApiError:
    return ApiError(400, "BAD_REQUEST", text, errors)


def _not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "Not found")


class Api:
    def __init__(self, store: Store, settings: SandboxSettings, prefixes: Sequence[str]) -> None:
        self.store = store
        self.settings = settings
        # Longest first, so "/numbers/1/numbers" never shadows a longer configured prefix.
        self.prefixes = sorted(("/" + p.strip("/") for p in prefixes), key=len, reverse=True)

    def route(self, path: str) -> tuple[str, str | None] | None:
        """("collection" | "available" | "one", number key) for an API path, else None."""
        for prefix in self.prefixes:
            if path in (prefix, prefix + "/"):
                return "collection", None
            if path.startswith(prefix + "/"):
                rest = path[len(prefix) + 1 :]
                if rest == "available":
                    return "available", None
                if rest and "/" not in rest:
                    return "one", unquote(rest, errors="replace")
        return None

    def handle(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        content_type: str,
        body: bytes,
    ) -> Reply:
        target = self.route(path)
        if target is None:
            raise _not_found()
        kind, key = target
        allowed = {
            "collection": ("GET", "POST"),
            "available": ("GET",),
            "one": ("GET", "PUT", "DELETE"),
        }
        if method not in allowed[kind]:
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"Method {method} is not allowed here")
        if kind == "available":
            return self._ok(self.available(query))
        if kind == "collection" and method == "GET":
            return self._ok(self.owned(query))
        if kind == "collection":
            data = _json_object(content_type, body)
            return self._ok(self.purchase(data), self.settings.purchase_status)
        assert key is not None
        if method == "GET":
            record = self.store.get_owned(key)
            if record is None:
                raise _not_found()
            return self._ok(render(record, owned=True, initial_price=False))
        if method == "PUT":
            data = _json_object(content_type, body)
            return self._ok(self.update(key, data))
        if not self.store.release(key):
            raise _not_found()
        return Reply(204, b"")

    def _ok(self, data: object, status: int = 200) -> Reply:
        return Reply(status, dumps(data))

    # -- operations --------------------------------------------------------------------------

    def available(self, query: list[tuple[str, str]]) -> dict[str, Any]:
        params = _single(query, ("country", "number", "limit", "page", "state", "npa", "nxx"))
        errors: dict[str, list[str]] = {}
        country = params.get("country", "").strip().upper()
        if not country:
            errors["country"] = ["must not be null"]
        elif len(country) != 2 or not country.isalpha():
            errors["country"] = ["must be an ISO 3166-1 alpha-2 code"]
        capabilities = _capabilities(query, errors)
        number = params.get("number", "").strip()
        if number and not number.isdigit():
            errors["number"] = ["must contain only digits"]
        limit, page = self._paging(params, errors, default_limit=10)
        if errors:
            raise _bad(errors)
        rows = self.store.search(country=country, capabilities=capabilities, number=number or None)
        window = rows[page * limit : (page + 1) * limit]
        return {
            "numbers": [render(r, owned=False) for r in window],
            "numberCount": len(rows),
        }

    def owned(self, query: list[tuple[str, str]]) -> dict[str, Any]:
        params = _single(query, ("number", "limit", "page"))
        errors: dict[str, list[str]] = {}
        number = params.get("number", "").strip().lstrip("+")
        if number and not number.isdigit():
            errors["number"] = ["must contain only digits"]
        limit, page = self._paging(params, errors, default_limit=50)
        if errors:
            raise _bad(errors)
        rows = self.store.list_owned(number or None)
        window = rows[page * limit : (page + 1) * limit]
        return {"numbers": [render(r, owned=True) for r in window], "numberCount": len(rows)}

    def purchase(self, data: dict[str, Any]) -> dict[str, Any]:
        errors = _fields(data, PURCHASE_FIELDS)
        key, number = data.get("numberKey"), data.get("number")
        if key is None and number is None:
            errors["numberKey"] = ["must not be null"]
        elif key is not None and number is not None:
            errors["number"] = ["give numberKey or number, not both"]
        if errors:
            raise _bad(errors)
        if number is not None:
            record = self.store.find_available(number=str(number).lstrip("+"))
            if record is not None and record.country != "US":
                raise _bad({"number": ["only US numbers are bought by number: use numberKey"]})
        else:
            record = self.store.find_available(key=str(key))
        if record is not None:
            record = self.store.buy(
                record.number_key,
                application_id=data.get("applicationId"),
                entity_id=data.get("entityId"),
            )
        if record is None:  # unknown, already sold, or sold a moment ago to another request
            raise _bad({}, "Number is not available for purchase")
        return render(record, owned=True, initial_price=False)

    def update(self, key: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.store.get_owned(key) is None:
            raise _not_found()
        errors = _fields(data, UPDATE_FIELDS)
        if not data and not errors:
            errors["applicationId"] = ["give applicationId and/or entityId"]
        if errors:
            raise _bad(errors)
        changes = {
            "application_id" if name == "applicationId" else "entity_id": data[name]
            for name in UPDATE_FIELDS
            if name in data
        }
        record = self.store.update(key, changes)
        if record is None:
            raise _not_found()
        return render(record, owned=True, initial_price=False)

    def _paging(
        self, params: dict[str, str], errors: dict[str, list[str]], *, default_limit: int
    ) -> tuple[int, int]:
        limit = _int(params.get("limit"), default_limit)
        page = _int(params.get("page"), 0)
        if limit is None or not 1 <= limit <= self.settings.max_limit:
            errors["limit"] = [f"must be between 1 and {self.settings.max_limit}"]
        if page is None or page < 0:
            errors["page"] = ["must be greater than or equal to 0"]
        return limit or default_limit, page or 0


def _int(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None


def _single(query: list[tuple[str, str]], names: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, value in query:
        if name in names:
            if name in params:
                errors[name] = ["must be given once"]
            params[name] = value
    if errors:
        raise _bad(errors)
    return params


def _capabilities(query: list[tuple[str, str]], errors: dict[str, list[str]]) -> list[str]:
    # Repeatable (capabilities=SMS&capabilities=VOICE) or, as the old docs show, "SMS,VOICE".
    wanted: list[str] = []
    for name, value in query:
        if name == "capabilities":
            wanted += [v.strip().upper() for v in value.split(",") if v.strip()]
    unknown = [c for c in wanted if c not in CAPABILITIES]
    if unknown:
        errors["capabilities"] = [f"unknown capability {c}" for c in unknown]
    return wanted


def _json_object(content_type: str, body: bytes) -> dict[str, Any]:
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json")
    try:
        data = json.loads(body or b"")
    except ValueError:
        raise _bad({}, "Malformed JSON body") from None
    if not isinstance(data, dict):
        raise _bad({}, "The JSON body must be an object")
    return data


def _fields(data: dict[str, Any], allowed: Sequence[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if name not in allowed:
            errors[name] = ["unknown field"]
        elif value is not None and not isinstance(value, str):
            errors[name] = ["must be a string"]
        elif isinstance(value, str) and not value.strip():
            errors[name] = ["must not be blank"]
    return errors
