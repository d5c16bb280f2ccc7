"""The message log is live while a row on it is still on its way, like a thread."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.services import campaign_launch, campaign_run
from messaging.models import Message
from tests.conftest import World, client_for
from tests.messaging.campaigns.test_log import _campaign, _owner, _report

OURS = "+46766861475"
POLL = re.compile(r'hx-get="([^"]+)" hx-trigger="every 3s"')


def _out(tenant, other: str, **fields) -> Message:
    values = {
        "direction": "out",
        "status": "queued",
        "ours": OURS,
        "body": f"to {other}",
        "updated": timezone.now() - timedelta(minutes=1),  # settled before the page is drawn
    }
    with scopes_disabled():
        return Message.objects.create(tenant=tenant, other=other, **{**values, **fields})


def _poll_url(page: str) -> str | None:
    found = POLL.search(page)
    return html.unescape(found.group(1)) if found else None


def _later(*, at=None, **filters) -> None:
    """A report arrives: the status moves and `updated` with it."""
    status = filters.pop("status")
    with scopes_disabled():
        Message.objects.filter(**filters).update(status=status, updated=at or timezone.now())


def _quiet_for_a_while() -> None:
    """Time passes: what changed is older than the poll's safety margin."""
    with scopes_disabled():
        Message.objects.update(updated=F("updated") - timedelta(minutes=1))


def test_the_log_of_a_send_polls_until_every_status_is_final(world: World) -> None:
    key = uuid.uuid4()
    for i in range(3):
        _out(world.tenant_a, f"+4670000000{i}", request_key=key)
    _out(world.tenant_a, "+46700000009", status="delivered")  # another send: not on this page
    client = client_for(world.member_a)
    page = client.get("/t/acme/messages/log/", {"request": str(key)}).content.decode()
    poll = _poll_url(page)
    assert poll is not None and f"request={key}" in poll and "since=" in poll
    assert page.count('aria-busy="true"') == 3  # each row on its way shows it

    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204  # nothing changed yet

    _later(other="+46700000000", status="created")
    moved = client.get(poll, HTTP_HX_REQUEST="true")
    assert moved.status_code == 200
    partial = moved.content.decode()
    assert partial.lstrip().startswith('<div id="results"') and "<html" not in partial
    assert 'data-status="created"' in partial and partial.count('data-status="queued"') == 2
    poll = _poll_url(partial)  # still live, from the new version on
    assert poll is not None and f"request={key}" in poll
    _quiet_for_a_while()
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204

    _later(request_key=key, status="delivered")
    done = client.get(poll, HTTP_HX_REQUEST="true")
    assert done.status_code == 286  # htmx stops polling, and swaps in the final rows
    final = done.content.decode()
    assert final.count('data-status="delivered"') == 3 and _poll_url(final) is None
    assert 'aria-busy="true"' not in final


def test_a_report_committed_late_with_an_older_timestamp_is_still_seen(world: World) -> None:
    """Two reports: B's `updated` is taken first but commits after the page read A's."""
    first = _out(world.tenant_a, "+46700000001", status="sent")
    _out(world.tenant_a, "+46700000002", status="sent")
    now = timezone.now()
    _later(other="+46700000001", status="delivered", at=now)  # A: committed, on the page
    client = client_for(world.owner_a)
    poll = _poll_url(client.get("/t/acme/messages/log/").content.decode())
    assert poll is not None and first.pk
    _later(other="+46700000002", status="delivered", at=now - timedelta(seconds=1))  # B, late
    late = client.get(poll, HTTP_HX_REQUEST="true")
    assert late.status_code == 286 and late.content.decode().count('"delivered"') == 2


def test_a_poll_without_change_is_one_indexed_query(world: World) -> None:
    key = uuid.uuid4()
    _out(world.tenant_a, "+46700000001", request_key=key)
    client = client_for(world.owner_a)
    poll = _poll_url(client.get("/t/acme/messages/log/", {"request": str(key)}).content.decode())
    with CaptureQueriesContext(connection) as queries:
        assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    on_messages = [q for q in queries if "messaging_message" in q["sql"]]
    assert len(on_messages) == 1


@pytest.mark.parametrize(
    ("fields", "live"),
    [
        ({"status": "queued"}, True),
        ({"status": "sending"}, True),
        ({"status": "unknown"}, True),
        ({"status": "created"}, True),
        ({"status": "sent"}, True),
        ({"status": "sent", "delivery_report": False}, False),
        ({"status": "created", "delivery_report": False}, False),
        ({"status": "sent", "kind": "mms"}, False),
        ({"status": "delivered"}, False),
        ({"status": "failed"}, False),
        ({"status": "queued", "created": timezone.now() - timedelta(days=2)}, False),
        ({"status": "received", "direction": "in"}, False),
    ],
)
def test_only_a_page_with_a_row_still_on_its_way_polls(world: World, fields, live) -> None:
    _out(world.tenant_a, "+46700000001", **fields)
    page = client_for(world.owner_a).get("/t/acme/messages/log/").content.decode()
    assert (_poll_url(page) is not None) is live


def test_the_poll_keeps_the_filters_and_the_page(world: World) -> None:
    for i in range(60):
        _out(world.tenant_a, f"+467000000{i:02d}", status="sent")
    client = client_for(world.owner_a)
    first = client.get("/t/acme/messages/log/", {"direction": "out"}).content.decode()
    cursor = re.search(r"after=([\w=-]+)", first).group(1)
    older = client.get("/t/acme/messages/log/", {"direction": "out", "after": cursor})
    poll = _poll_url(older.content.decode())
    assert poll is not None
    query = parse_qs(urlsplit(poll).query)
    assert query["direction"] == ["out"] and query["after"] == [cursor] and len(query["since"]) == 1
    _later(other="+46700000000", status="delivered")  # the oldest: on the second page
    again = client.get(poll, HTTP_HX_REQUEST="true")
    rows = again.content.decode()
    assert again.status_code == 200 and rows.count("data-status=") == 10
    assert rows.count('data-status="delivered"') == 1


def test_another_tenant_gets_404_for_the_log_and_its_poll(world: World) -> None:
    key = uuid.uuid4()
    _out(world.tenant_a, "+46700000001", request_key=key)
    poll = _poll_url(
        client_for(world.owner_a).get("/t/acme/messages/log/", {"request": key}).content.decode()
    )
    outsider = client_for(world.owner_b)
    assert outsider.get(poll, HTTP_HX_REQUEST="true").status_code == 404
    assert outsider.get(poll).status_code == 404
    # In its own log the same request key finds nothing, and nothing polls.
    own = outsider.get("/t/bravo/messages/log/", {"request": key}).content.decode()
    assert "No message matches" in own and _poll_url(own) is None


@pytest.fixture
def tenant(live_tenant, settings):
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    return live_tenant


def test_campaign_rows_go_live_and_settle_with_their_reports(tenant, elks) -> None:
    campaign = _campaign(tenant, 2)
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    _quiet_for_a_while()
    client = _owner(tenant)
    page = client.get(f"/t/{tenant.slug}/messages/log/", {"source": "campaign"}).content.decode()
    poll = _poll_url(page)
    assert poll is not None and "source=campaign" in poll
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    for recipient in CampaignRecipient.objects.all():
        _report(campaign, recipient.elks_id, "delivered")
    done = client.get(poll, HTTP_HX_REQUEST="true")
    assert done.status_code == 286
    assert done.content.decode().count('data-status="delivered"') == 2
    assert Campaign.objects.get(pk=campaign.pk).status == "completed"
