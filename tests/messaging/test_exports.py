"""CSV exports of the message log and the opt-out ledger: streamed, filtered, tenant-only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.exports import LOG_HEADER
from messaging.models import Message, OptOut
from messaging.services import conversation_touch, optout_record
from tests.conftest import World, client_for

OURS = "+46766861475"


def _message(tenant, **fields) -> Message:
    values = {
        "kind": "sms",
        "direction": "out",
        "status": "delivered",
        "ours": OURS,
        "other": "+46700000001",
        "body": "Hej",
        **fields,
    }
    with scope(tenant=tenant.pk):
        message = Message.objects.create(tenant=tenant, **values)
        conversation_touch(message)
    return message


def _rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_log_export_streams_every_column_of_the_filtered_set(world: World) -> None:
    now = timezone.now()
    _message(
        world.tenant_a,
        body='Line one, "quoted"\nline two',
        cost=28_000,  # 46elks' cost: never in the tenant's export
        price=35_050,
        parts=2,
        elks_id="s1",
        sent_at=now,
        delivered_at=now,
    )
    _message(
        world.tenant_a,
        status="failed",
        error="Invalid to number",
        failed_at=now,
        other="+46700000002",
    )
    _message(world.tenant_a, direction="in", status="received", body="Inbound", elks_id="s3")
    _message(world.tenant_b, body="Bravo's", elks_id="s9")

    response = client_for(world.member_a).get("/t/acme/messages/log/export.csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="messages-acme-' in response["Content-Disposition"]
    rows = _rows(response)
    assert list(rows[0]) == list(LOG_HEADER)
    assert rows[-1]["body"] == 'Line one, "quoted"\nline two'
    assert "Bravo's" not in {r["body"] for r in rows} and len(rows) == 3
    first = next(r for r in rows if r["elks_id"] == "s1")
    assert first["price"] == "35050" and first["price_formatted"] == "3.51 SEK"
    assert "cost" not in first and "28000" not in first.values()
    assert first["parts"] == "2" and first["direction"] == "out" and first["kind"] == "sms"
    assert first["ours"] == OURS and first["other"] == "+46700000001"
    assert first["sent_at"] and first["delivered_at"] and not first["failed_at"]
    failed = next(r for r in rows if r["status"] == "failed")
    assert failed["error"] == "Invalid to number" and failed["failed_at"]
    assert failed["price"] == "" and failed["price_formatted"] == ""

    filtered = _rows(
        client_for(world.member_a).get("/t/acme/messages/log/export.csv", {"direction": "in"})
    )
    assert [r["body"] for r in filtered] == ["Inbound"]


def test_log_export_is_a_stream_of_chunks_not_a_file_in_memory(world: World) -> None:
    now = timezone.now()
    with scopes_disabled():
        Message.objects.bulk_create(
            Message(
                tenant=world.tenant_a,
                kind="sms",
                direction="in",
                status="received",
                ours=OURS,
                other="+46700000001",
                body=f"n{i}",
                created=now - timedelta(seconds=i),
                callback_token=f"t{i}",
            )
            for i in range(4500)
        )
    response = client_for(world.owner_a).get("/t/acme/messages/log/export.csv")
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)
    assert len(chunks) == 4501  # header + one line per row, yielded one by one
    if connection.vendor != "postgresql":
        # Fetched in chunks of 2000. (PostgreSQL reads through a named server-side cursor,
        # whose fetches the query log does not see.)
        selects = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
        assert 1 <= len(selects) <= 3
    assert b"n0" in chunks[1] and b"n4499" in chunks[-1]


def test_formula_like_text_is_defused_but_phone_numbers_are_kept(world: World) -> None:
    _message(world.tenant_a, body='=HYPERLINK("http://evil")', other="+46700000001")
    [row] = _rows(client_for(world.owner_a).get("/t/acme/messages/log/export.csv"))
    assert row["body"] == '\'=HYPERLINK("http://evil")' and row["other"] == "+46700000001"


def test_optout_export_streams_the_ledger(world: World) -> None:
    inbound = _message(world.tenant_a, direction="in", status="received", elks_id="s7")
    with scope(tenant=world.tenant_a.pk):
        optout_record(
            tenant=world.tenant_a, phone="+46700000001", kind="out", message=inbound, word="STOP"
        )
        optout_record(tenant=world.tenant_a, phone="+46700000001", kind="in", actor=world.owner_a)
    with scope(tenant=world.tenant_b.pk):
        optout_record(tenant=world.tenant_b, phone="+46700000099", kind="out")

    response = client_for(world.member_a).get("/t/acme/messages/opt-outs/export.csv")
    assert response.status_code == 200 and response.streaming
    rows = _rows(response)
    assert [(r["phone"], r["kind"]) for r in rows] == [
        ("+46700000001", "in"),
        ("+46700000001", "out"),
    ]
    assert rows[0]["recorded_by"] == "owner@acme.example"
    assert rows[1]["word"] == "STOP" and rows[1]["message_elks_id"] == "s7"
    with scopes_disabled():
        assert OptOut.objects.count() == 3


def test_exports_belong_to_the_tenant(world: World) -> None:
    _message(world.tenant_a)
    outsider = client_for(world.owner_b)
    assert outsider.get("/t/acme/messages/log/export.csv").status_code == 404
    assert outsider.get("/t/acme/messages/opt-outs/export.csv").status_code == 404
    assert _rows(outsider.get("/t/bravo/messages/log/export.csv")) == []
