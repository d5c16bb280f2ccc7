"""The Campaigns pages: list, compose and preview, summary and launch, live progress with
pause/resume/cancel, per-recipient results and CSV, and the staff list."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant, User
from billing.models import BillingAccount
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.contacts.models import Contact, ContactList, ContactListMember
from numbers.models import PhoneNumber
from tests.conftest import World, client_for
from tests.factories import approved_sender

OURS = "+46766861475"


def _contacts(
    tenant: Tenant, phones: list[str], *, list_name: str = "Customers", **names: str
) -> ContactList:
    approved_sender(tenant, "Shop")  # the campaigns here send from this approved name
    with scopes_disabled():
        contact_list, _ = ContactList.objects.get_or_create(tenant=tenant, name=list_name)
        for i, phone in enumerate(phones):
            contact, _ = Contact.objects.get_or_create(
                tenant=tenant, phone=phone, defaults={"name": names.get(phone[-2:], f"Anna {i}")}
            )
            ContactListMember.objects.get_or_create(contact_list=contact_list, contact=contact)
    return contact_list


def _campaign(tenant: Tenant, lists: list[ContactList], **fields: object) -> Campaign:
    values: dict[str, object] = {
        "name": "Spring sale",
        "sender": "Shop",
        "template": "Hi {first_name|there}, 20% off today!",
        **fields,
    }
    approved_sender(tenant, "Shop")
    with scopes_disabled():
        campaign = Campaign.objects.create(tenant=tenant, **values)
        campaign.lists.set(lists)
    return campaign


def _recipients(campaign: Campaign, statuses: list[str], **fields: object) -> None:
    with scopes_disabled():
        for i, status in enumerate(statuses):
            CampaignRecipient.objects.create(
                tenant=campaign.tenant,
                campaign=campaign,
                phone=f"+467000001{i:02d}",
                status=status,
                **fields,
            )


def _phones(n: int, start: int = 0) -> list[str]:
    return [f"+4670000{start + i:04d}" for i in range(n)]


def _url(campaign: Campaign, suffix: str = "") -> str:
    return f"/t/{campaign.tenant.slug}/campaigns/{campaign.pk}/{suffix}"


def _status(campaign: Campaign) -> str:
    with scopes_disabled():
        campaign.refresh_from_db()
    return campaign.status


# --- the list ---------------------------------------------------------------------------------


def test_list_is_empty_at_first_and_offers_a_new_campaign(world: World) -> None:
    response = client_for(world.member_a).get("/t/acme/campaigns/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "No campaigns yet" in page
    assert 'href="/t/acme/campaigns/new/"' in page
    assert "import contacts" in page  # no list yet


def test_list_shows_campaigns_newest_first_with_status_progress_and_totals(world: World) -> None:
    customers = _contacts(world.tenant_a, _phones(2))
    old = _campaign(
        world.tenant_a,
        [customers],
        name="Old news",
        status=Campaign.Status.COMPLETED,
        created=timezone.now() - timedelta(days=3),
    )
    _recipients(old, ["delivered", "delivered", "failed", "sent"], cost=3500, price=4375)
    _campaign(world.tenant_a, [customers], name="Fresh draft")
    _campaign(world.tenant_b, [_contacts(world.tenant_b, _phones(1))], name="Bravo secret")

    page = client_for(world.member_a).get("/t/acme/campaigns/").content.decode()
    assert "Bravo secret" not in page
    assert page.index("Fresh draft") < page.index("Old news")
    assert 'data-status="completed"' in page and 'data-status="draft"' in page
    assert '<progress value="100" max="100"' in page and "4 of 4 done" in page
    assert "2 campaigns, newest first" in page
    totals = page.split('id="campaign-totals"')[1].split("</tfoot>")[0]
    assert ">4<" in totals and ">3<" in totals and ">1<" in totals  # recipients, sent, failed
    assert "1.75 SEK" in totals  # 4 at the tenant's 0.4375 (46elks' 0.35 is never shown)


# --- compose ----------------------------------------------------------------------------------


def _form(chosen: list[ContactList], **fields: object) -> dict[str, object]:
    return {
        "name": "Spring sale",
        "sender": "Shop",
        "lists": [cl.pk for cl in chosen],
        "template": "Hi {first_name|there}!",
        "send_date": "",
        "send_time": "",
        "time_zone": "Europe/Stockholm",
        "quiet_start": "",
        "quiet_end": "",
        "quiet_zone": "tenant",
        "rate": "5",
        **fields,
    }


def test_new_campaign_saves_a_draft_and_opens_its_summary(world: World) -> None:
    customers = _contacts(world.tenant_a, _phones(2))
    client = client_for(world.member_a)  # members prepare drafts
    page = client.get("/t/acme/campaigns/new/").content.decode()
    assert "Customers" in page and 'name="rate"' in page
    assert f"Capped at {settings.CAMPAIGN_PROVIDER_RATE} per second" in page
    assert '<option value="Europe/Stockholm" selected>' in page  # the tenant's time zone

    response = client.post("/t/acme/campaigns/new/", _form([customers]))
    assert response.status_code == 302
    with scope(tenant=world.tenant_a.pk):
        campaign = Campaign.objects.get()
        assert list(campaign.lists.all()) == [customers]
    assert response["Location"] == _url(campaign)
    assert (campaign.status, campaign.sender, campaign.created_by) == (
        "draft",
        "Shop",
        world.member_a,
    )
    assert campaign.scheduled_at is None


def test_scheduled_time_is_read_in_the_chosen_time_zone_and_stored_in_utc(world: World) -> None:
    customers = _contacts(world.tenant_a, _phones(1))
    with scopes_disabled():
        number = PhoneNumber.objects.create(
            tenant=world.tenant_a,
            number=OURS,
            provider_id="n-1",
            country="se",
            has_sms=True,
            status="active",
        )
    day = (timezone.now() + timedelta(days=30)).date()
    response = client_for(world.owner_a).post(
        "/t/acme/campaigns/new/",
        _form(
            [customers],
            sender=number.number,
            send_date=day.isoformat(),
            send_time="09:30",
            time_zone="America/New_York",
            quiet_start="21:00",
            quiet_end="08:00",
            quiet_zone="recipient",
        ),
    )
    assert response.status_code == 302
    with scopes_disabled():
        campaign = Campaign.objects.get()
    local = datetime.combine(day, datetime.min.time()).replace(
        hour=9, minute=30, tzinfo=ZoneInfo("America/New_York")
    )
    assert campaign.scheduled_at == local.astimezone(UTC)
    assert (campaign.sender, campaign.time_zone, campaign.quiet_zone) == (
        OURS,
        "America/New_York",
        "recipient",
    )
    assert campaign.quiet_start.hour == 21 and campaign.quiet_end.hour == 8
    # The edit form shows the same local time back.
    page = client_for(world.owner_a).get(_url(campaign, "edit/")).content.decode()
    assert 'value="09:30"' in page and f'value="{day.isoformat()}"' in page


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"quiet_start": "21:00"}, "both ends of the quiet hours"),
        ({"rate": "1000"}, "At most"),
        ({"rate": "0"}, "greater than or equal to 1"),
        ({"send_date": "2020-01-01", "send_time": "10:00"}, "in the past"),
        ({"send_date": "2099-01-01"}, "both a date and a time"),
        ({"sender": "1nvalid!"}, "Send from one of your numbers or approved sender names"),
        ({"sender": "Swedbank"}, "Send from one of your numbers or approved sender names"),
        ({"sender": ""}, "Choose whom to send from"),
        ({"template": "Hi {foo}!"}, "Unknown placeholder {foo}"),
        ({"lists": []}, "Choose at least one contact list"),
        ({"template": "   "}, "Write a message"),
    ],
)
def test_compose_reports_what_is_wrong(world: World, fields: dict, error: str) -> None:
    customers = _contacts(world.tenant_a, _phones(1))
    response = client_for(world.owner_a).post(
        "/t/acme/campaigns/new/", _form([customers], **fields)
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    with scopes_disabled():
        assert not Campaign.objects.exists()


def test_another_tenants_list_cannot_be_chosen(world: World) -> None:
    theirs = _contacts(world.tenant_b, _phones(1), list_name="Bravo list")
    response = client_for(world.owner_a).post("/t/acme/campaigns/new/", _form([theirs]))
    assert response.status_code == 400
    assert "Bravo list" not in response.content.decode()


def test_live_preview_renders_three_real_recipients_with_fallbacks_and_counts(
    world: World,
) -> None:
    customers = _contacts(world.tenant_a, _phones(5))
    with scopes_disabled():
        Contact.objects.filter(phone=_phones(1)[0]).update(name="")  # no first name
        Contact.objects.filter(phone=_phones(5)[1]).update(opted_out=True)
    client = client_for(world.member_a)
    response = client.get(
        "/t/acme/campaigns/preview/",
        {"template": "Hi {first_name|there}, see you {day}!", "lists": [customers.pk]},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<dl class="counter-figures">')  # the panel's content
    assert page.count("data-preview") == 3
    assert "Hi there, see you !" in page  # fallback; unknown field without one is empty
    assert "Hi Anna, see you !" in page
    assert "+46 70 000 00 01" not in page  # opted out
    assert 'data-counter="parts">1<' in page and 'data-counter="encoding">GSM-7<' in page

    long = client.get(
        "/t/acme/campaigns/preview/", {"template": "Hej 😀 " * 20, "lists": [customers.pk]}
    ).content.decode()
    assert 'data-counter="encoding">UCS-2<' in long and 'data-counter="parts">3<' in long
    # Another tenant's list id previews nobody.
    theirs = _contacts(world.tenant_b, _phones(2, start=50), list_name="Theirs")
    other = client.get("/t/acme/campaigns/preview/", {"template": "x", "lists": [theirs.pk]})
    assert "data-preview" not in other.content.decode()


def test_editing_a_scheduled_campaign_makes_it_a_draft_again(world: World) -> None:
    customers = _contacts(world.tenant_a, _phones(1))
    campaign = _campaign(
        world.tenant_a,
        [customers],
        status=Campaign.Status.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    client = client_for(world.owner_a)
    assert (
        "Saving a change makes it a draft again"
        in client.get(_url(campaign, "edit/")).content.decode()
    )
    response = client.post(_url(campaign, "edit/"), _form([customers], name="Renamed"))
    assert response.status_code == 302
    with scopes_disabled():
        campaign.refresh_from_db()
    assert (campaign.name, campaign.status, campaign.scheduled_at) == ("Renamed", "draft", None)


def test_a_started_campaign_cannot_be_edited(world: World) -> None:
    campaign = _campaign(world.tenant_a, [], status=Campaign.Status.RUNNING)
    client = client_for(world.owner_a)
    response = client.post(_url(campaign, "edit/"), _form([], name="Changed"))
    assert response.status_code == 302 and response["Location"] == _url(campaign)
    with scopes_disabled():
        campaign.refresh_from_db()
    assert campaign.name == "Spring sale"


# --- summary and launch -----------------------------------------------------------------------


def test_summary_counts_recipients_after_opt_outs_and_duplicates(world: World) -> None:
    first = _contacts(world.tenant_a, _phones(4))
    second = _contacts(world.tenant_a, _phones(3, start=2), list_name="VIP")  # 2 overlap
    with scopes_disabled():
        Contact.objects.filter(phone=_phones(1)[0]).update(opted_out=True)
    campaign = _campaign(world.tenant_a, [first, second])
    page = client_for(world.owner_a).get(_url(campaign)).content.decode()
    assert 'data-summary="recipients">4<' in page  # 5 distinct, 1 opted out
    assert "1 opted-out number and 2 duplicates" in page
    assert 'data-summary="parts">4<' in page
    assert 'data-summary="cost">1.75 SEK<' in page  # the tenant's price: 4 at 0.4375
    assert "Fits in your remaining limit" in page
    assert 'id="launch"' in page and 'id="launch" disabled' not in page
    assert page.count("data-preview") == 3


def test_a_campaign_that_does_not_fit_cannot_be_launched(world: World) -> None:
    # The billing account's monthly limit 1.00 SEK, 0.20 SEK billed this period.
    BillingAccount.objects.filter(pk=world.tenant_a.pk).update(
        monthly_limit=10_000, period_spent=2_000
    )
    campaign = _campaign(world.tenant_a, [_contacts(world.tenant_a, _phones(4))])
    client = client_for(world.owner_a)
    page = client.get(_url(campaign)).content.decode()
    assert "exceeds the remaining limit by 0.95 SEK" in page  # 1.75 needed, 0.80 left
    assert 'id="launch" disabled' in page

    response = client.post(_url(campaign, "launch/"))
    assert response.status_code == 400
    assert "exceeds the remaining usage limit" in response.content.decode()
    assert _status(campaign) == "draft"
    with scopes_disabled():
        assert not CampaignRecipient.objects.exists()


def test_members_may_not_launch(world: World) -> None:
    campaign = _campaign(world.tenant_a, [_contacts(world.tenant_a, _phones(2))])
    member = client_for(world.member_a)
    page = member.get(_url(campaign)).content.decode()
    assert "Only an owner can launch a campaign, because launching spends money" in page
    assert 'id="launch"' not in page
    assert member.post(_url(campaign, "launch/")).status_code == 403
    assert _status(campaign) == "draft"


def test_launch_with_a_future_time_schedules_it(world: World) -> None:
    campaign = _campaign(
        world.tenant_a,
        [_contacts(world.tenant_a, _phones(2))],
        scheduled_at=timezone.now() + timedelta(hours=5),
    )
    client = client_for(world.owner_a)
    assert ">Schedule</button>" in client.get(_url(campaign)).content.decode()
    response = client.post(_url(campaign, "launch/"), follow=True)
    assert "Scheduled: sending starts" in response.content.decode()
    assert _status(campaign) == "scheduled"
    with scopes_disabled():
        assert not CampaignRecipient.objects.exists()


# --- running: progress and controls -----------------------------------------------------------


def test_progress_partial_polls_while_running_and_stops_with_286_when_done(world: World) -> None:
    campaign = _campaign(world.tenant_a, [], status=Campaign.Status.RUNNING, rate=7)
    _recipients(campaign, ["delivered", "sent", "failed", "pending"])
    client = client_for(world.member_a)
    page = client.get(_url(campaign)).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'data-done="75"' in page
    assert 'data-count="pending">1<' in page and 'data-count="delivered">1<' in page
    assert "set to at most 7" in page

    partial = client.get(_url(campaign, "progress/"), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert partial.content.decode().lstrip().startswith('<section id="progress"')

    # Finished, but delivery reports are still due for the sent ones: keep polling a while.
    with scopes_disabled():
        CampaignRecipient.objects.filter(status="pending").update(status="sent")
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.COMPLETED, finished_at=timezone.now()
        )
    waiting = client.get(_url(campaign, "progress/"), HTTP_HX_REQUEST="true")
    assert waiting.status_code == 200
    assert "waiting for delivery reports" in waiting.content.decode()

    with scopes_disabled():
        CampaignRecipient.objects.filter(status="sent").update(status="delivered")
    done = client.get(_url(campaign, "progress/"), HTTP_HX_REQUEST="true")
    body = done.content.decode()
    assert done.status_code == 286
    assert 'data-done="100"' in body and "hx-trigger" not in body
    # Reports that never come do not keep the page polling forever.
    with scopes_disabled():
        CampaignRecipient.objects.filter(phone__endswith="00").update(status="sent")
        Campaign.objects.filter(pk=campaign.pk).update(
            finished_at=timezone.now() - timedelta(minutes=5)
        )
    assert client.get(_url(campaign, "progress/"), HTTP_HX_REQUEST="true").status_code == 286


def test_pause_resume_and_cancel_through_the_pages(world: World) -> None:
    campaign = _campaign(world.tenant_a, [], status=Campaign.Status.RUNNING)
    campaign.launched_at = timezone.now()
    with scopes_disabled():
        campaign.save()
    _recipients(campaign, ["sent", "pending", "pending"])
    member, owner = client_for(world.member_a), client_for(world.owner_a)

    # Any member may stop a campaign; only owners resume it.
    assert member.post(_url(campaign, "pause/")).status_code == 302
    assert _status(campaign) == "paused"
    page = member.get(_url(campaign)).content.decode()
    assert "Paused by member@acme.example" in page and "An owner can resume it" in page
    assert member.post(_url(campaign, "resume/")).status_code == 403

    response = owner.post(_url(campaign, "resume/"), follow=True)
    assert "Resumed." in response.content.decode()
    assert _status(campaign) == "running"

    assert member.get(_url(campaign, "cancel/")).status_code == 403
    confirm = owner.get(_url(campaign, "cancel/")).content.decode()
    assert "2 recipients not yet sent will not get the message" in confirm
    assert _status(campaign) == "running"  # asking is not cancelling
    owner.post(_url(campaign, "cancel/"))
    assert _status(campaign) == "cancelled"
    with scopes_disabled():
        assert list(CampaignRecipient.objects.order_by("id").values_list("status", flat=True)) == [
            "sent",
            "skipped",
            "skipped",
        ]
    # Nothing left to control.
    response = owner.post(_url(campaign, "pause/"), follow=True)
    assert "can be paused" in response.content.decode()


def test_launch_creates_recipients_and_the_worker_sends_them(
    live_tenant: Tenant, elks, django_capture_on_commit_callbacks
) -> None:
    from messaging.campaigns.services import campaign_run

    owner = User.objects.get(email="owner@taxinord.example")
    customers = _contacts(live_tenant, _phones(3), **{"00": "Alva Berg"})
    campaign = _campaign(live_tenant, [customers])
    client = client_for(owner)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(_url(campaign, "launch/"))
    assert response.status_code == 302
    assert callbacks  # the workers are enqueued only after the commit
    assert _status(campaign) == "running"
    assert CampaignRecipient.objects.filter(campaign=campaign, status="pending").count() == 3

    assert campaign_run(campaign_id=campaign.pk) == 3
    assert _status(campaign) == "completed"
    posts = elks.api_requests(method="POST", path="/a1/sms")
    assert sorted(p["params"]["to"] for p in posts) == _phones(3)  # each exactly once
    texts = set(CampaignRecipient.objects.values_list("body", flat=True))
    assert "Hi Alva, 20% off today!" in texts

    # All sent: 100% done; the page keeps polling a while for the delivery reports.
    done = client.get(_url(campaign, "progress/"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-done="100"' in done and "waiting for delivery reports" in done
    results = client.get(_url(campaign, "recipients/")).content.decode()
    assert results.count('class="status status-sent"') == 3


# --- recipients -------------------------------------------------------------------------------


def test_recipients_filter_by_status_and_digits_with_keyset_pages(world: World) -> None:
    campaign = _campaign(world.tenant_a, [], status=Campaign.Status.COMPLETED)
    _recipients(campaign, ["delivered"] * 60 + ["failed"] * 3)
    with scopes_disabled():
        CampaignRecipient.objects.filter(status="failed").update(error="Invalid number")
    client = client_for(world.member_a)

    first = client.get(_url(campaign, "recipients/")).content.decode()
    assert first.count("<tr>") == 51  # header + 50
    assert "63 recipients: 60 delivered" in first
    assert "after=" in first
    after = first.split("after=")[1].split('"')[0]
    second = client.get(_url(campaign, "recipients/"), {"after": after}).content.decode()
    assert second.count("<tr>") == 14 and "after=" not in second

    failed = client.get(_url(campaign, "recipients/"), {"status": "failed"}).content.decode()
    assert failed.count("Invalid number") == 3
    by_digits = client.get(
        _url(campaign, "recipients/"), {"phone": "70 000 0105"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert by_digits.lstrip().startswith('<div id="results"')
    assert "+46 70 000 01 05" in by_digits and by_digits.count("<tr>") == 2
    nothing = client.get(_url(campaign, "recipients/"), {"phone": "999999"}).content.decode()
    assert "No recipient matches" in nothing


def test_recipients_csv_is_streamed_with_the_filters(world: World) -> None:
    campaign = _campaign(world.tenant_a, [], status=Campaign.Status.COMPLETED)
    sent_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    _recipients(campaign, ["delivered", "delivered"], cost=3500, price=4375, sent_at=sent_at)
    _recipients(campaign, [], cost=None)
    with scopes_disabled():
        CampaignRecipient.objects.create(
            tenant=world.tenant_a,
            campaign=campaign,
            phone="+46700009999",
            status="failed",
            error="=HYPERLINK(evil)",
        )
        CampaignRecipient.objects.filter(phone="+46700000100").update(elks_id="s-abc")
    response = client_for(world.member_a).get(_url(campaign, "recipients.csv"))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert f"campaign-{campaign.pk}-recipients-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["phone", "status", "elks_id", "price", "sent_at", "delivered_at", "error"]
    assert rows[1] == ["+46700000100", "delivered", "s-abc", "4375", sent_at.isoformat(), "", ""]
    assert rows[3][:2] == ["+46700009999", "failed"] and rows[3][-1] == "'=HYPERLINK(evil)"

    only_failed = client_for(world.member_a).get(
        _url(campaign, "recipients.csv"), {"status": "failed"}
    )
    assert len(b"".join(only_failed.streaming_content).decode().splitlines()) == 2


# --- staff ------------------------------------------------------------------------------------


def test_staff_see_live_campaigns_across_tenants_and_pause_them(world: World) -> None:
    running = _campaign(world.tenant_a, [], name="Acme running", status=Campaign.Status.RUNNING)
    _recipients(running, ["sent", "pending"])
    _campaign(
        world.tenant_b,
        [],
        name="Bravo scheduled",
        status=Campaign.Status.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    _campaign(world.tenant_b, [], name="Bravo draft")
    _campaign(world.tenant_a, [], name="Acme done", status=Campaign.Status.COMPLETED)

    assert client_for(world.owner_a).get("/staff/campaigns/").status_code == 404
    staff = client_for(world.staff)
    page = staff.get("/staff/campaigns/").content.decode()
    assert "Acme running" in page and "Bravo scheduled" in page
    assert "Bravo draft" not in page and "Acme done" not in page
    assert "1 of 2" in page and ">Bravo<" in page

    assert (
        client_for(world.owner_a).post(f"/staff/campaigns/{running.pk}/pause/").status_code == 404
    )
    response = staff.post(f"/staff/campaigns/{running.pk}/pause/", follow=True)
    assert "“Acme running” of Acme is paused." in response.content.decode()
    with scopes_disabled():
        running.refresh_from_db()
    assert (running.status, running.pause_reason) == ("paused", "Paused by staff")
    # The tenant's page says why.
    assert "Paused by staff" in client_for(world.owner_a).get(_url(running)).content.decode()
