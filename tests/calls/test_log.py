"""The call log: rows, filters, keyset pages, CSV export, live polling and query count."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

from django.utils import timezone

from calls.models import Call, Recording
from calls.selectors import unheard_voicemail_count
from tests.calls.conftest import OTHER, OURS, make_call, make_recording
from tests.conftest import World, client_for

BASE = "/t/acme/calls/"


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr id="call-(\d+)"', html)


def test_empty_log_invites_a_call(world: World, acme) -> None:
    page = client_for(world.owner_a).get(BASE).content.decode()
    assert "No calls yet" in page
    for name in ("Voicemail", "Dial", "Greetings", "Settings"):
        assert f">{name}</a>" in page


def test_log_shows_each_call_formatted(world: World, number) -> None:
    incoming = make_call(number, elks_id="c1")
    make_recording(incoming)  # an unheard voicemail
    outgoing = make_call(
        number,
        direction=Call.Direction.OUT,
        state=Call.State.BUSY,
        duration=None,
        cost=None,
        price=None,
    )
    recorded = make_call(number, duration=3725)
    make_recording(recorded, kind=Recording.Kind.CALL)

    html = client_for(world.member_a).get(BASE).content.decode()
    assert _rows(html) == [str(recorded.pk), str(outgoing.pk), str(incoming.pk)]
    assert "In</span> from +46 70 000 00 01</td>" in html  # in: the caller
    assert "Out</span> to +46 70 000 00 01</td>" in html  # out: the callee
    assert 'title="From +46700000001 to +46766861475"' in html
    assert "1:15" in html and "62:05" in html  # mm:ss
    assert "1.50 SEK" in html and "1.25 SEK" not in html  # the price, never 46elks' cost
    assert "Voicemail · new" in html and ">Recording</a>" in html
    assert "Busy" in html


def test_filters_narrow_the_log(world: World, number) -> None:
    now = timezone.now()
    a = make_call(number, created=now - timedelta(days=3))
    b = make_call(number, direction=Call.Direction.OUT, state=Call.State.FAILED)
    c = make_call(number, ours="+46766860000", other="+46700000002")
    client = client_for(world.owner_a)

    def rows(query: str) -> list[str]:
        return _rows(client.get(f"{BASE}?{query}").content.decode())

    assert rows("direction=out") == [str(b.pk)]
    assert rows("state=failed") == [str(b.pk)]
    assert rows(f"number={OURS.replace('+', '%2B')}") == [str(b.pk), str(a.pk)]
    day = timezone.localtime(now - timedelta(days=3)).date().isoformat()
    assert rows(f"from={day}&to={day}") == [str(a.pk)]
    assert set(rows("state=nonsense")) == {str(a.pk), str(b.pk), str(c.pk)}  # ignored
    assert "No call matches" in client.get(f"{BASE}?state=busy").content.decode()
    # An HTMX filter change answers the results partial only.
    partial = client.get(f"{BASE}?direction=out", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="results"') and "<html" not in partial


def test_keyset_pages_walk_every_call_once(world: World, number) -> None:
    now = timezone.now()
    same = now - timedelta(hours=1)
    calls = [make_call(number, created=same) for _ in range(60)]  # equal `created`: ids decide
    calls += [make_call(number, created=now - timedelta(minutes=i)) for i in range(20)]
    client = client_for(world.owner_a)
    seen: list[str] = []
    url = BASE
    while url:
        html = client.get(url).content.decode()
        seen += _rows(html)
        found = re.search(r'href="\?(?:[^"]*&amp;)?after=([^"&]+)"', html)
        url = f"{BASE}?after={found.group(1)}" if found else ""
    assert len(seen) == len(set(seen)) == 80
    assert sorted(seen) == sorted(str(c.pk) for c in calls)
    # A page past the first does not poll (it would jump back to the newest).
    assert 'hx-trigger="every 2s"' not in html


def test_one_page_costs_a_fixed_number_of_queries(
    world: World, number, django_assert_max_num_queries
) -> None:
    base = timezone.now()
    Call.objects.bulk_create(
        Call(
            tenant=number.tenant,
            direction=Call.Direction.IN,
            state=Call.State.SUCCESS,
            number=number,
            ours=OURS,
            other=OTHER,
            duration=i,
            cost=100 * i,
            created=base - timedelta(seconds=i),
        )
        for i in range(300)
    )
    for call in Call.objects.all()[:40]:
        make_recording(call)
    client = client_for(world.owner_a)
    client.get(BASE)  # warm the session
    with django_assert_max_num_queries(9):
        html = client.get(BASE).content.decode()
    assert len(_rows(html)) == 50
    older = re.search(r"after=([^\"&]+)", html).group(1)
    with django_assert_max_num_queries(9):
        assert len(_rows(client.get(f"{BASE}?after={older}").content.decode())) == 50


def test_live_poll_answers_204_until_a_call_changes(world: World, number) -> None:
    call = make_call(number)
    client = client_for(world.owner_a)
    html = client.get(BASE).content.decode()
    since = re.search(r'since=([^"&]+)"', html).group(1)
    assert 'hx-trigger="every 2s"' in html
    poll = f"{BASE}?since={since}"
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    Call.objects.filter(pk=call.pk).update(
        state=Call.State.BUSY, updated=timezone.now() + timedelta(seconds=1)
    )
    response = client.get(poll, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Busy" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_empty_log_polls_from_the_epoch(world: World, acme) -> None:
    html = client_for(world.owner_a).get(BASE).content.decode()
    since = re.search(r'since=([^"&]+)"', html).group(1)
    assert since.startswith("1970-01-01")
    assert client_for(world.owner_a).get(f"{BASE}?since={since}").status_code == 204


def test_csv_export_streams_the_filtered_set(world: World, number) -> None:
    out = make_call(number, direction=Call.Direction.OUT, elks_id="c-out", cost=3500, price=4900)
    make_recording(out, kind=Recording.Kind.CALL)
    make_call(number, elks_id="c-in", other="=HYPERLINK(1)")
    response = client_for(world.member_a).get(f"{BASE}export.csv?direction=out")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="calls-acme-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["elks_id"] for r in rows] == ["c-out"]
    [row] = rows
    assert row["price"] == "4900" and row["price_formatted"] == "0.49 SEK"
    assert "cost" not in row and "cost_formatted" not in row  # a tenant never sees 46elks' cost
    assert row["recordings"] == "1" and row["ours"] == OURS and row["direction"] == "out"
    datetime.fromisoformat(row["created"])
    everything = client_for(world.owner_a).get(f"{BASE}export.csv")
    text = b"".join(everything.streaming_content).decode()
    assert "'=HYPERLINK(1)" in text  # no formula reaches a spreadsheet


def test_unheard_voicemail_count(world: World, number) -> None:
    call = make_call(number)
    make_recording(call)
    make_recording(call)
    make_recording(call, kind=Recording.Kind.CALL)
    make_recording(call, heard=timezone.now())
    make_recording(call, audio_deleted=timezone.now())
    assert unheard_voicemail_count(world.tenant_a) == 2
    assert unheard_voicemail_count(world.tenant_b) == 0


def test_the_log_names_a_caller_who_is_a_contact(world: World, number) -> None:
    from django_scopes import scopes_disabled

    from messaging.contacts.models import Contact

    make_call(number, elks_id="c-named")
    with scopes_disabled():
        Contact.objects.create(tenant=number.tenant, phone=OTHER, name="Anna Berg")
    html = client_for(world.member_a).get(BASE).content.decode()
    assert "Anna Berg <small" in html


def test_voicemail_names_a_caller_who_is_a_contact(world: World, number) -> None:
    from django_scopes import scopes_disabled

    from messaging.contacts.models import Contact

    make_recording(make_call(number, elks_id="c-vm-named"))
    with scopes_disabled():
        Contact.objects.create(tenant=number.tenant, phone=OTHER, name="Anna Berg")
    html = client_for(world.member_a).get(f"{BASE}voicemail/").content.decode()
    assert "Anna Berg <small" in html
