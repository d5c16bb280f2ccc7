"""Prices when known (tenants see their price, never 46elks' cost): a price not rated yet
is "pending" (or "—" where none is expected), never 0.00; a real zero stays 0.00 SEK;
exports leave the cell empty."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.template import Context, Template
from django.utils import timezone
from django_scopes import scopes_disabled

from calls.models import Call
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.models import Message
from numbers.models import PhoneNumber
from tests.conftest import World, client_for

PENDING = (
    '<span class="cost-pending" title="The provider has not reported this cost yet">pending</span>'
)
NONE = '<span title="No cost reported">—</span>'


def _render(value: object, pending: bool) -> str:
    template = Template("{% load switchboard %}{% cost value 'SEK' pending %}")
    return template.render(Context({"value": value, "pending": pending}))


def test_the_cost_tag() -> None:
    assert _render(3500, False) == "0.35 SEK"
    assert _render(0, False) == "0.00 SEK" and _render(0, True).startswith("0.00 SEK <small")
    assert _render(None, True) == PENDING
    assert _render(None, False) == NONE
    assert "+ pending" in _render(7000, True)


def _number(world: World) -> PhoneNumber:
    with scopes_disabled():
        return PhoneNumber.objects.create(
            tenant=world.tenant_a,
            number="+46766861475",
            country="se",
            has_sms=True,
            has_voice=True,
            status="active",
        )


def _message(world: World, number: PhoneNumber, **fields: object) -> Message:
    values: dict[str, object] = {
        "tenant": world.tenant_a,
        "number": number,
        "direction": "out",
        "status": "sent",
        "ours": number.number,
        "other": "+46700000001",
        "body": "Hi",
        **fields,
    }
    with scopes_disabled():
        return Message.objects.create(**values)


def test_message_log_and_export(world: World) -> None:
    number = _number(world)
    _message(world, number, body="unknown", cost=None)
    _message(world, number, body="free", cost=0, price=0)
    _message(world, number, body="paid", cost=2222, price=3500)  # the tenant's price shows
    _message(world, number, body="failed", status="failed", cost=None)
    _message(world, number, body="inbound", direction="in", status="received", cost=None)
    client = client_for(world.member_a)
    html = client.get("/t/acme/messages/log/").content.decode()
    cells = [
        row.split('<td class="right nowrap">')[1].split("</td>")[0]
        for row in html.split("<tr>")[2:]
        if '<td class="right nowrap">' in row
    ]
    # Newest first: inbound, failed, paid, free, unknown.
    assert cells == [NONE, NONE, "0.35 SEK", "0.00 SEK", PENDING]
    export = client.get("/t/acme/messages/log/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    by_body = {r["body"]: r for r in rows}
    assert (by_body["unknown"]["price"], by_body["unknown"]["price_formatted"]) == ("", "")
    assert (by_body["free"]["price"], by_body["free"]["price_formatted"]) == ("0", "0.00 SEK")
    assert by_body["paid"]["price"] == "3500" and "cost" not in by_body["paid"]
    assert "0.22" not in html


def _call(number: PhoneNumber, elks_id: str, **fields: object) -> Call:
    values = {"direction": "in", "state": "success", "other": "+46700000001", **fields}
    with scopes_disabled():
        return Call.objects.create(
            tenant=number.tenant, number=number, ours=number.number, elks_id=elks_id, **values
        )


def test_call_log_page_and_export(world: World) -> None:
    number = _number(world)
    unknown = _call(number, "c-unknown", duration=12)
    _call(number, "c-free", duration=3, cost=0, price=0)
    busy = _call(number, "c-busy", state="busy")
    client = client_for(world.member_a)
    page = client.get(f"/t/acme/calls/{unknown.pk}/").content.decode()
    # Tenants see the call's price (calls.billing), pending until the call is rated.
    assert f"<dt>Price</dt><dd>{PENDING}</dd>" in page and "0.00 SEK" not in page
    busy_page = client.get(f"/t/acme/calls/{busy.pk}/").content.decode()
    assert f"<dt>Price</dt><dd>{NONE}</dd>" in busy_page
    log = client.get("/t/acme/calls/").content.decode()
    assert PENDING in log and "0.00 SEK" in log
    export = client.get("/t/acme/calls/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    by_id = {r["elks_id"]: r for r in rows}
    assert (by_id["c-unknown"]["price"], by_id["c-unknown"]["price_formatted"]) == ("", "")
    assert by_id["c-free"]["price_formatted"] == "0.00 SEK"


def _campaign(world: World, name: str, statuses: list[tuple[str, int | None]]) -> Campaign:
    with scopes_disabled():
        campaign = Campaign.objects.create(
            tenant=world.tenant_a,
            name=name,
            sender="Shop",
            template="Hi",
            status=Campaign.Status.COMPLETED,
            finished_at=timezone.now() - timedelta(days=1),
        )
        for i, (status, price) in enumerate(statuses):
            CampaignRecipient.objects.create(
                tenant=world.tenant_a,
                campaign=campaign,
                phone=f"+4670000{i:04d}",
                status=status,
                price=price,  # the tenant's price is shown, never 46elks' cost
                cost=None if price is None else 1111,
            )
    return campaign


def test_campaign_pages(world: World) -> None:
    unknown = _campaign(world, "Unknown", [("sent", None), ("failed", None)])
    free = _campaign(world, "Free", [("delivered", 0)])
    part = _campaign(world, "Part", [("delivered", 3500), ("sent", None)])
    client = client_for(world.member_a)
    listing = client.get("/t/acme/campaigns/").content.decode()
    rows = {
        name: listing.split(f">{name}<")[1].split("</tr>")[0]
        for name in ("Unknown", "Free", "Part")
    }
    assert PENDING in rows["Unknown"] and "0.00" not in rows["Unknown"]
    assert "0.00 SEK" in rows["Free"] and "pending" not in rows["Free"]
    assert "0.35 SEK <small" in rows["Part"] and "+ pending" in rows["Part"]
    totals = listing.split('id="campaign-totals"')[1].split("</tfoot>")[0]
    assert "0.35 SEK" in totals and "+ pending" in totals

    detail = client.get(f"/t/acme/campaigns/{unknown.pk}/").content.decode()
    assert f"<dd data-spent>{PENDING}</dd>" in detail
    assert (
        "<dd data-spent>0.00 SEK</dd>"
        in client.get(f"/t/acme/campaigns/{free.pk}/").content.decode()
    )
    recipients = client.get(f"/t/acme/campaigns/{part.pk}/recipients/").content.decode()
    assert PENDING in recipients and "0.35 SEK" in recipients
    failed_only = _campaign(world, "Failed", [("failed", None)])
    page = client.get(f"/t/acme/campaigns/{failed_only.pk}/").content.decode()
    assert f"<dd data-spent>{NONE}</dd>" in page
