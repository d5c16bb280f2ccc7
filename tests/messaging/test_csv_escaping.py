"""Every CSV export defuses formula text the same way, a leading TAB or CR included."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django_scopes import scopes_disabled

from calls.models import Call
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.contacts.models import Contact, ContactImport, ImportRejection
from messaging.models import Message, OptOut
from tests.conftest import World, client_for

OURS = "+46766861475"
TAB = "\t=HYPERLINK(1)"
CR = "\r=HYPERLINK(2)"


def _message_log(world: World, text: str) -> tuple[str, str]:
    Message.objects.create(
        tenant=world.tenant_a, direction="out", status="sent", ours=OURS, other="+4670", body=text
    )
    return "/t/acme/messages/log/export.csv", "body"


def _optouts(world: World, text: str) -> tuple[str, str]:
    OptOut.objects.create(tenant=world.tenant_a, phone="+46700000001", kind="out", word=text)
    return "/t/acme/messages/opt-outs/export.csv", "word"


def _contacts(world: World, text: str) -> tuple[str, str]:
    Contact.objects.create(tenant=world.tenant_a, phone="+46700000001", name=text)
    return "/t/acme/contacts/export.csv", "name"


def _rejections(world: World, text: str) -> tuple[str, str]:
    started = ContactImport.objects.create(tenant=world.tenant_a, status="done", file="x.csv")
    ImportRejection.objects.create(
        tenant=world.tenant_a, contact_import=started, row_number=2, reason="bad", raw=text
    )
    return f"/t/acme/contacts/import/{started.pk}/rejected.csv", "raw"


def _recipients(world: World, text: str) -> tuple[str, str]:
    campaign = Campaign.objects.create(
        tenant=world.tenant_a, name="Sale", sender="Shop", template="Hi", status="completed"
    )
    CampaignRecipient.objects.create(
        tenant=world.tenant_a, campaign=campaign, phone="+46700000001", status="failed", error=text
    )
    return f"/t/acme/campaigns/{campaign.pk}/recipients.csv", "error"


def _calls(world: World, text: str) -> tuple[str, str]:
    Call.objects.create(
        tenant=world.tenant_a, direction="in", state="failed", ours=OURS, other="+4670", error=text
    )
    return "/t/acme/calls/export.csv", "error"


EXPORTS: dict[str, Callable[[World, str], tuple[str, str]]] = {
    "message log": _message_log,
    "opt-outs": _optouts,
    "contacts": _contacts,
    "import rejections": _rejections,
    "campaign recipients": _recipients,
    "calls": _calls,
}


@pytest.mark.parametrize("text", [TAB, CR], ids=["tab", "cr"])
@pytest.mark.parametrize("export", EXPORTS.values(), ids=EXPORTS.keys())
def test_every_export_defuses_a_leading_tab_or_carriage_return(
    world: World, export: Callable[[World, str], tuple[str, str]], text: str
) -> None:
    with scopes_disabled():
        url, column = export(world, text)
    response = client_for(world.owner_a).get(url)
    assert response.status_code == 200 and response.streaming
    content = b"".join(response.streaming_content).decode()
    [row] = list(csv.DictReader(io.StringIO(content, newline="")))
    assert row[column] == "'" + text
