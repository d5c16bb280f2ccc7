"""Sandbox API for the account, subaccounts and numbers."""

from __future__ import annotations

from datetime import timedelta

from . import render
from .api_base import ApiBase, Caller, Params, Reply, Row, allow, require
from .rules import (
    CAPABILITIES,
    ApiError,
    check_amount,
    check_url,
    check_url_or_action,
    check_yes_no,
    new_id,
    new_secret,
    ts_plain,
)

# 46elks (Configure a number): 'The special string "none" and " " (single space) also clears
# a field.'
_CLEAR = ("none", " ")


class AccountsApi(ApiBase):
    # -- account -----------------------------------------------------------------------------

    def me_get_list(self, caller: Caller, params: Params) -> Reply:
        """The seed's shape: id, displayname, email, mobilenumber, currency, balance,
        trialactivated; a subaccount sees its own id and name with the account owner's
        contact details, plus its usage."""
        allow(params, set())
        account = self.store.account()
        common = {
            "email": account["email"],
            "mobilenumber": account["mobilenumber"],
            "currency": account["currency"],
        }
        if caller.is_master:
            return Reply.json(
                {"id": account["id"], "displayname": account["displayname"]}
                | common
                | {"balance": account["balance"], "trialactivated": account["created"]}
            )
        sub = self.store.get("subaccounts", caller.id) or {}
        used, limit = sub.get("balanceused") or 0, sub.get("usagelimit")
        return Reply.json(
            {"id": caller.id, "displayname": sub.get("name")}
            | common
            | {
                # What the subaccount may still spend (the master balance if uncapped).
                "balance": account["balance"] if limit is None else max(0, limit - used),
                "trialactivated": sub.get("created"),
                "balanceused": used,
                "usagelimit": limit,
            }
        )

    # -- subaccounts -------------------------------------------------------------------------

    def _master_only(self, caller: Caller) -> None:
        if not caller.is_master:
            raise ApiError(403, "Subaccounts cannot manage subaccounts")

    def subaccounts_get_list(self, caller: Caller, params: Params) -> Reply:
        self._master_only(caller)
        where, values = [], []
        if "active" in params:
            where.append("active = ?")
            values.append(1 if check_yes_no(params["active"], "active") else 0)
        return self._page(
            caller,
            "subaccounts",
            params,
            render.subaccount,
            extra={"active"},
            where=where,
            values=values,
            owned=False,
        )

    def subaccounts_post_list(self, caller: Caller, params: Params) -> Reply:
        self._master_only(caller)
        allow(params, {"name", "usagelimit"})
        name = require(params, "name")
        if len(name) > 100:
            raise ApiError(400, 'Invalid "name": at most 100 characters')
        limit = check_amount(params["usagelimit"], "usagelimit") if "usagelimit" in params else None
        row = {
            "id": "a" + new_id("")[:31],
            "name": name,
            "secret": new_secret(),
            "usagelimit": limit,
            "balanceused": None,
            "active": 1,
            "created": self.store.now(),
            "deactivated": None,
        }
        self.store.insert("subaccounts", row)
        return Reply.json(render.subaccount(row, with_usage=False))

    def subaccounts_get_item(self, caller: Caller, params: Params, item: str) -> Reply:
        self._master_only(caller)
        allow(params, set())
        return Reply.json(render.subaccount(self._subaccount(item)))

    def _subaccount(self, sub_id: str) -> Row:
        row = self.store.get("subaccounts", sub_id)
        if row is None:
            raise ApiError(404, "Not found")
        return row

    def subaccounts_post_item(self, caller: Caller, params: Params, item: str) -> Reply:
        self._master_only(caller)
        allow(params, {"name", "usagelimit", "secret", "active"})
        with self.store.lock:
            row = self._subaccount(item)
            if not row["active"]:
                raise ApiError(400, "Subaccount is deactivated; deactivation is permanent")
            changes: Row = {}
            if "name" in params:
                changes["name"] = require(params, "name")
            if "usagelimit" in params:
                value = params["usagelimit"]
                changes["usagelimit"] = (
                    None if value == "none" else check_amount(value, "usagelimit")
                )
            if "secret" in params:
                secret = params["secret"]
                if secret in ("new", "yes"):
                    secret = new_secret()
                elif not (16 <= len(secret) <= 64 and secret.isalnum()):
                    raise ApiError(400, 'Invalid "secret": 16-64 letters and digits, or "new"')
                changes["secret"] = secret
            if "active" in params and not check_yes_no(params["active"], "active"):
                held = self.store.one(
                    "SELECT COUNT(*) AS n FROM numbers WHERE owner = ? AND active = 1", (item,)
                )
                if held and held["n"]:
                    raise ApiError(400, "Subaccount has active numbers; deactivate them first")
                changes.update(active=0, deactivated=self.store.now())
            self.store.update("subaccounts", item, changes)
            return Reply.json(render.subaccount(self._subaccount(item)))

    # -- numbers -----------------------------------------------------------------------------

    def numbers_get_list(self, caller: Caller, params: Params) -> Reply:
        return self._page(caller, "numbers", params, render.number)

    def numbers_get_item(self, caller: Caller, params: Params, item: str) -> Reply:
        allow(params, set())
        return Reply.json(render.number(self._owned(caller, "numbers", item)))

    def _number_settings(self, params: Params, caps: list[str]) -> Row:
        """sms_url / mms_url / voice_start / sms_replies / name; "none" or " " clears one.

        ``mms_url`` is stored whatever the capabilities: the seed's own examples set it on an
        sms,voice number and 46elks stores it (it is simply never called)."""
        out: Row = {}
        for key, cap, check in (
            ("sms_url", "sms", check_url_or_action),
            ("mms_url", None, check_url),
            ("voice_start", "voice", check_url_or_action),
        ):
            if key in params:
                value = params[key]
                if value in _CLEAR:
                    out[key] = None
                    continue
                if cap is not None and cap not in caps:
                    raise ApiError(400, f'Number has no "{cap}" capability for "{key}"')
                out[key] = check(value, key)
        if "sms_replies" in params:
            out["sms_replies"] = 1 if check_yes_no(params["sms_replies"], "sms_replies") else 0
        if "name" in params:
            name = params["name"]
            if len(name) > 50:
                raise ApiError(400, 'Invalid "name": at most 50 characters')
            out["name"] = None if name in _CLEAR else name
        return out

    def numbers_post_list(self, caller: Caller, params: Params) -> Reply:
        allow(
            params,
            {
                "country",
                "capabilities",
                "category",
                "sms_url",
                "mms_url",
                "voice_start",
                "sms_replies",
                "name",
            },
        )
        country = require(params, "country").lower()
        caps = [c.strip() for c in require(params, "capabilities").split(",")]
        for cap in caps:
            if cap not in CAPABILITIES:
                raise ApiError(400, f'Invalid capability "{cap}"; use sms, mms and/or voice')
        if len(set(caps)) != len(caps):
            raise ApiError(400, 'Invalid "capabilities": duplicates')
        category = params.get("category")
        if category not in (None, "mobile", "fixed"):
            raise ApiError(400, 'Invalid "category": use mobile or fixed')
        if category == "fixed" and ("sms" in caps or "mms" in caps):
            raise ApiError(400, "Fixed numbers cannot have SMS or MMS capability")
        settings = self._number_settings(params, caps)
        with self.store.lock:
            if country not in self.store.countries():
                raise ApiError(400, 'Invalid "country": not a supported country')
            candidates = self.store.all(
                "SELECT * FROM pool WHERE country = ? ORDER BY category = 'mobile' DESC, number",
                (country,),
            )
            if not candidates:
                raise ApiError(400, "No numbers available for that country")
            fits = [
                c
                for c in candidates
                if (category is None or c["category"] == category)
                and set(caps) <= set(c["capabilities"].split(","))
            ]
            if not fits:
                raise ApiError(400, "No numbers available for that country with those capabilities")
            chosen = fits[0]
            created = self.store.clock.now()
            row = {
                "id": new_id("n"),
                "owner": caller.id,
                "number": chosen["number"],
                "country": country,
                "category": chosen["category"],
                "capabilities": ",".join(caps),
                "active": 1,
                "sms_url": None,
                "mms_url": None,
                "voice_start": None,
                "sms_replies": 1,
                "name": None,
                "created": created.isoformat(timespec="microseconds"),
                "expires": ts_plain(created + timedelta(days=30)),
                "deallocated": None,
            } | settings
            self.store.execute("DELETE FROM pool WHERE number = ?", (chosen["number"],))
            self.store.insert("numbers", row)
        return Reply.json(render.number(row))

    def numbers_post_item(self, caller: Caller, params: Params, item: str) -> Reply:
        allow(params, {"sms_url", "mms_url", "voice_start", "sms_replies", "name", "active"})
        with self.store.lock:
            row = self._owned(caller, "numbers", item)
            if not row["active"]:
                raise ApiError(400, "Number is deallocated; deallocation is irreversible")
            changes = self._number_settings(params, row["capabilities"].split(","))
            if "active" in params and not check_yes_no(params["active"], "active"):
                changes.update(active=0, deallocated=self.store.now())
            self.store.update("numbers", item, changes)
            return Reply.json(render.number(self._owned(caller, "numbers", item)))
