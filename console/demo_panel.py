"""The demo control panel (staff, `make demo` only): make the 46elks sandbox do what 46elks
would, over HTTP, so each event reaches the console by the same callbacks as in production."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from numbers.models import PhoneNumber, Provider


class DemoPanelError(Exception):
    """The sandbox refused or did not answer; the message says so in plain words."""


ACTIONS = [
    ("inbound_sms", "An inbound SMS to this number"),
    ("inbound_mms", "An inbound MMS (with a picture) to this number"),
    ("inbound_call", "An inbound call to this number (forwarded or voicemail, as routed)"),
    ("failed_delivery", "Failed delivery: SMS to the recipient below get a failed report"),
    ("outage", "A 46elks outage: every API request answers 503 for some minutes"),
]


def demo_numbers() -> list[PhoneNumber]:
    """Every tenant's active 46elks number: staff pick one (and with it its tenant)."""
    with scopes_disabled():
        return list(
            PhoneNumber.objects.filter(status=PhoneNumber.Status.ACTIVE, provider=Provider.ELKS)
            .select_related("tenant")
            .order_by("tenant__name", "number")
        )


def _owner(number: PhoneNumber) -> str:
    return number.tenant.name if number.tenant else "no tenant"


class DemoActionForm(forms.Form):
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.RadioSelect)
    number = forms.TypedChoiceField(coerce=int, label="Tenant number", required=False)
    sender = forms.CharField(
        label="From (a phone number)", initial="+46701112233", max_length=20, required=False
    )
    message = forms.CharField(
        label="Text", initial="Hello from the demo control panel!", max_length=500, required=False
    )
    recipient = forms.CharField(
        label="Recipient whose SMS fail (failed delivery)",
        initial="+46701234567",
        max_length=20,
        required=False,
    )
    minutes = forms.IntegerField(
        label="For how long (minutes: outage, failed delivery)",
        initial=2,
        min_value=1,
        max_value=30,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.numbers = {n.pk: n for n in demo_numbers()}
        self.fields["number"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (n.pk, f"{n.number} · {_owner(n)}") for n in self.numbers.values()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action", "").startswith("inbound"):
            if not data.get("number"):
                self.add_error("number", "Choose the tenant number that receives it.")
            if not str(data.get("sender", "")).startswith("+"):
                self.add_error("sender", "Give the sender as +46701112233 (E.164).")
        if data.get("action") == "failed_delivery" and not str(
            data.get("recipient", "")
        ).startswith("+"):
            self.add_error("recipient", "Give the recipient as +46701234567 (E.164).")
        if data.get("action") in ("outage", "failed_delivery") and not data.get("minutes"):
            self.add_error("minutes", "Give how long, in minutes (1 to 30).")
        return data


def sandbox_control(path: str, params: dict[str, Any], *, method: str = "POST") -> Any:
    """One request to the sandbox's control API (``/sandbox/...``, next to ``/a1``)."""
    api = urlsplit(settings.ELKS_API_URL)
    url = f"{api.scheme}://{api.netloc}/sandbox/{path}"
    body = json.dumps(params).encode() if method == "POST" else None
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DemoPanelError(f"The 46elks sandbox did not do it ({exc}).") from exc


def _later(minutes: int, path: str, params: dict[str, Any], *, method: str = "POST") -> None:
    """Undo an action after some minutes: the demo is one process, a timer in it does."""
    timer = threading.Timer(
        minutes * 60, sandbox_control, args=(path, params), kwargs={"method": method}
    )
    timer.daemon = True
    timer.start()


def demo_action(
    *, data: dict[str, Any], number: PhoneNumber | None, actor: User, request: HttpRequest
) -> str:
    """Do one panel action through the sandbox, audit it, and say what was done."""
    done, detail = _simulate(data["action"], data, number)
    audit_record(
        action=AuditEvent.Action.DEMO_SIMULATED,
        actor=actor,
        tenant=number.tenant if number else None,
        request=request,
        kind=data["action"],
        **detail,
    )
    return done


def _simulate(
    action: str, data: dict[str, Any], number: PhoneNumber | None
) -> tuple[str, dict[str, object]]:
    """Ask the sandbox; returns the plain-words confirmation and what the audit records."""
    if action == "failed_delivery":
        minutes, recipient = int(data["minutes"]), data["recipient"]
        # The sandbox fails every SMS (and call) to a recipient ending in fail_suffix.
        sandbox_control("config", {"fail_suffix": recipient})
        _later(minutes, "config", {"fail_suffix": ""})
        return (
            f"For the next {minutes} minute(s), every SMS sent to {recipient} gets a failed "
            "delivery report from the sandbox (calls to it are busy).",
            {"recipient": recipient, "minutes": minutes},
        )
    if action == "outage":
        minutes = int(data["minutes"])
        sandbox_control("chaos", {"rate": 1, "mode": "503"})
        _later(minutes, "chaos", {}, method="DELETE")
        return (
            f"46elks (the sandbox) now answers every API request with 503 for {minutes} "
            "minute(s), then recovers by itself. Sends wait and retry meanwhile.",
            {"minutes": minutes},
        )
    assert number is not None  # the form requires one for the inbound actions
    params = {"to": number.number, "from": data["sender"], "message": data["message"]}
    if action == "inbound_call":
        params.pop("message")
    sandbox_control(action.replace("_", "-"), params)
    what = {
        "inbound_sms": "an SMS",
        "inbound_mms": "an MMS with a picture",
        "inbound_call": "a call",
    }[action]
    return (
        f"The sandbox sent {what} from {data['sender']} to {number.number} "
        f"({_owner(number)}), calling back to the console as 46elks would.",
        {"number": number.number, "sender": data["sender"]},
    )
