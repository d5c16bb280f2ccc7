"""What one accepted POST /a1/sms costs in queries, pinned so the gain of issue 16's send
benchmark (bench/api_send.py) is not lost. Every rule still runs synchronously: the counts
below are the statements of one send, not a shortcut around them."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.models import Conversation, Message
from tests.api.a1_helpers import CUSTOMER, post, tenant_key, text

# One send (a key seen before, from a known address), 13 statements: the key with its
# tenant and API settings; the sender's number; the messaging settings (parts limit); the
# opt-out ledger; the account, plan versions and price book (the quote); the conversation
# (get, then create); the message INSERT; the reservation UPDATE; the request log. Plus the
# savepoints (the send's transaction is one inside the test's): 18 here. It was 23 before
# the message was inserted with its conversation and nothing was read twice.
NEW_CONVERSATION = 18
# A conversation that exists: no INSERT (nor its savepoint), one UPDATE to put it on top.
KNOWN_CONVERSATION = 16


def _send(client, number, to: str):
    response = post(client, "/a1/sms", {"from": number.number, "to": to, "message": "Hi"})
    assert response.status_code == 200, text(response)
    return response


def test_one_api_send_costs_a_pinned_number_of_queries(
    live_tenant, rented_number, elks, django_assert_max_num_queries
):
    client = tenant_key(live_tenant).client()
    _send(client, rented_number, CUSTOMER)  # the key's first use records its address once

    with django_assert_max_num_queries(NEW_CONVERSATION):
        _send(client, rented_number, "+46700000002")
    with django_assert_max_num_queries(KNOWN_CONVERSATION):
        _send(client, rented_number, CUSTOMER)

    # Still one conversation per recipient, each showing its latest message, and every
    # message filed in it with its reservation held.
    assert Conversation.objects.count() == 2
    for conversation in Conversation.objects.all():
        latest = Message.objects.filter(conversation=conversation).latest("created", "id")
        assert conversation.last_message_at == latest.created
        assert conversation.last_preview == "Hi"
    assert not Message.objects.filter(conversation=None).exists()
    assert all(m.reserved > 0 for m in Message.objects.all())


def test_the_send_statements_are_few_and_none_is_a_second_read(live_tenant, rented_number, elks):
    client = tenant_key(live_tenant).client()
    _send(client, rented_number, CUSTOMER)
    with CaptureQueriesContext(connection) as captured:
        _send(client, rented_number, "+46700000003")
    statements = [q["sql"] for q in captured.captured_queries]
    reads = [s.split(" FROM ")[1].split()[0] for s in statements if s.startswith("SELECT")]
    # The sender's number, the billing account and the message are each read once at most.
    assert reads.count('"numbers_phonenumber"') == 1, reads
    assert reads.count('"billing_billingaccount"') == 1, reads
    assert '"messaging_message"' not in reads, reads
    assert not any(s.startswith('UPDATE "messaging_message"') for s in statements), statements
