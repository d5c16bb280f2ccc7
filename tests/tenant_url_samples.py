"""Object ids for tenant URLs, by URL keyword: each returns an id owned by `tenant`.

The isolation sweep in tests/accounts/test_isolation.py walks every URL under /t/<slug>/ and
needs a real object for each extra keyword; a new keyword without an entry here fails it.
Samples run with scopes disabled and may create what they need.
"""

from collections.abc import Callable

from accounts.models import Membership, Tenant
from numbers.models import PhoneNumber


def _number(tenant: Tenant) -> int:
    number = PhoneNumber.objects.filter(tenant=tenant).first()
    if number is None:
        number = PhoneNumber.objects.create(
            tenant=tenant,
            provider_id=f"n-sample-{tenant.pk}",
            number=f"+4676686{tenant.pk:04d}",
            country="se",
            has_sms=True,
            has_voice=True,
            status=PhoneNumber.Status.ACTIVE,
        )
    return number.pk


def _webhook_delivery(tenant: Tenant) -> int:
    from messaging.customer_webhooks.models import WebhookDelivery
    from messaging.models import Message

    number = PhoneNumber.objects.get(pk=_number(tenant))
    message = Message.objects.create(
        tenant=tenant,
        direction=Message.Direction.IN,
        status=Message.Status.RECEIVED,
        source=Message.Source.INBOUND,
        number=number,
        ours=number.number,
        other="+46700000001",
        body="sample",
    )
    delivery = WebhookDelivery.objects.create(
        tenant=tenant, number=number, message=message, url="https://example.com/hook"
    )
    return delivery.pk


SAMPLES: dict[str, Callable[[Tenant], object]] = {
    "membership_id": lambda tenant: Membership.objects.filter(tenant=tenant).first().pk,
    "number_id": _number,
    "delivery_id": _webhook_delivery,
}


def _conversation(tenant: Tenant) -> int:
    from messaging.models import Conversation

    conversation, _ = Conversation.objects.get_or_create(
        tenant=tenant, ours="+46766860000", other="+46700000001"
    )
    return conversation.pk


# A 1x1 transparent GIF: the smallest real image for the MMS image URL.
_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _image(tenant: Tenant) -> int:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from messaging.models import Message, MessageImage

    image = MessageImage.objects.filter(tenant=tenant).exclude(file="").first()
    if image is None:
        message = Message.objects.create(
            tenant=tenant,
            kind=Message.Kind.MMS,
            direction=Message.Direction.IN,
            status=Message.Status.RECEIVED,
            ours="+46766860000",
            other="+46700000001",
        )
        # One shared file under MEDIA_ROOT, written once, so test runs leave no litter.
        name = "mms/isolation-sample.gif"
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(_GIF))
        image = MessageImage.objects.create(
            tenant=tenant, message=message, file=name, content_type="image/gif", size=len(_GIF)
        )
    return image.pk


SAMPLES["conversation_id"] = _conversation
SAMPLES["image_id"] = _image


# The smallest WAV header-and-silence: enough for the recording audio URL to answer 200.
_WAV = (
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"
    b"\x02\x00\x10\x00data\x00\x00\x00\x00"
)


def _shared_file(name: str, content: bytes) -> str:
    """One shared file under MEDIA_ROOT, written once, so test runs leave no litter."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(content))
    return name


def _call(tenant: Tenant) -> int:
    from calls.models import Call

    call = Call.objects.filter(tenant=tenant).first()
    if call is None:
        number = PhoneNumber.objects.get(pk=_number(tenant))
        call = Call.objects.create(
            tenant=tenant,
            elks_id=f"c-sample-{tenant.pk}",
            direction=Call.Direction.IN,
            state=Call.State.SUCCESS,
            number=number,
            ours=number.number,
            other="+46700000001",
            duration=42,
            cost=12_000,
        )
    return call.pk


def _recording(tenant: Tenant) -> int:
    from calls.models import Call, Recording

    recording = Recording.objects.filter(tenant=tenant).exclude(file="").first()
    if recording is None:
        call = Call.objects.get(pk=_call(tenant))
        recording = Recording.objects.create(
            tenant=tenant,
            call=call,
            callid=call.elks_id,
            elks_id=f"{call.elks_id}-r0",
            kind=Recording.Kind.VOICEMAIL,
            duration=3,
            file=_shared_file("recordings/isolation-sample.wav", _WAV),
            size=len(_WAV),
        )
    return recording.pk


def _greeting(tenant: Tenant) -> int:
    from calls.models import Greeting

    greeting = Greeting.objects.filter(tenant=tenant).first()
    if greeting is None:
        greeting = Greeting.objects.create(
            tenant=tenant,
            name="Sample greeting",
            file=_shared_file("greetings/isolation-sample.wav", _WAV),
            content_type="audio/wav",
            size=len(_WAV),
        )
    return greeting.pk


SAMPLES["call_id"] = _call
SAMPLES["recording_id"] = _recording
SAMPLES["greeting_id"] = _greeting


def _campaign(tenant: Tenant) -> int:
    """A draft campaign with one list of one contact (drafts open every campaign page)."""
    from messaging.campaigns.models import Campaign
    from messaging.contacts.models import Contact, ContactList, ContactListMember

    campaign = Campaign.objects.filter(tenant=tenant, status=Campaign.Status.DRAFT).first()
    if campaign is None:
        contact, _ = Contact.objects.get_or_create(
            tenant=tenant, phone="+46700000001", defaults={"name": "Sample Contact"}
        )
        contact_list, _ = ContactList.objects.get_or_create(tenant=tenant, name="Sample list")
        ContactListMember.objects.get_or_create(contact_list=contact_list, contact=contact)
        campaign = Campaign.objects.create(
            tenant=tenant, name="Sample campaign", sender="Sample", template="Hi {first_name}"
        )
        campaign.lists.add(contact_list)
    return campaign.pk


SAMPLES["campaign_id"] = _campaign


def _contact(tenant: Tenant) -> int:
    from messaging.contacts.models import Contact

    contact, _ = Contact.objects.get_or_create(
        tenant=tenant, phone="+46700000001", defaults={"name": "Sample contact"}
    )
    return contact.pk


def _contact_list(tenant: Tenant) -> int:
    from messaging.contacts.models import ContactList

    contact_list, _ = ContactList.objects.get_or_create(tenant=tenant, name="Sample list")
    return contact_list.pk


def _contact_import(tenant: Tenant) -> int:
    from messaging.contacts.models import ContactImport

    # Waiting for its column mapping, so the mapping page answers 200 to members.
    found = ContactImport.objects.filter(tenant=tenant, status="uploaded").first()
    if found is None:
        found = ContactImport.objects.create(
            tenant=tenant,
            file=_shared_file("imports/isolation-sample.csv", b"phone,name\n+46700000001,Ann\n"),
            original_name="sample.csv",
            headers=["phone", "name"],
        )
    return found.pk


SAMPLES["contact_id"] = _contact
SAMPLES["list_id"] = _contact_list
SAMPLES["import_id"] = _contact_import


def _sender_name(tenant: Tenant) -> int:
    """A pending sender-name request (the owner may withdraw it)."""
    from messaging.senders.models import SenderName

    found, _ = SenderName.objects.get_or_create(
        tenant=tenant, key="samplename", status="pending", defaults={"name": "SampleName"}
    )
    return found.pk


SAMPLES["sender_name_id"] = _sender_name


def _billing_alert(tenant: Tenant) -> int:
    """A spend alert of this period (the owner may dismiss its banner)."""
    from billing.models import BillingAlert
    from billing.periods import current_period

    found, _ = BillingAlert.objects.get_or_create(
        tenant=tenant, period=current_period("Europe/Stockholm"), key="80"
    )
    return found.pk


SAMPLES["alert_id"] = _billing_alert


def _invoice(tenant: Tenant) -> int:
    """An issued invoice (tenants never see drafts), with one line."""
    from billing.invoices.models import Invoice, InvoiceLine
    from billing.invoices.services import invoice_issue

    invoice = Invoice.objects.filter(tenant=tenant, status=Invoice.Status.ISSUED).first()
    if invoice is None:
        from datetime import date

        draft = Invoice.objects.create(tenant=tenant, period=date(2026, 10, 1), subtotal=10_000)
        InvoiceLine.objects.create(invoice=draft, kind="sms_out", description="SMS", amount=10_000)
        invoice = invoice_issue(invoice_id=draft.pk, actor=None)
    return invoice.pk


SAMPLES["invoice_id"] = _invoice


def _api_key(tenant: Tenant) -> str:
    """An active API key's public id (the owner may revoke it)."""
    from api.models import ApiKey
    from api.services import key_create

    found = ApiKey.objects.filter(tenant=tenant, revoked_at=None).first()
    if found is None:
        found = key_create(tenant=tenant, label="Sample key", scopes=["read"], actor=None).key
    return found.key_id


SAMPLES["key_id"] = _api_key


def _endpoint(tenant: Tenant) -> int:
    """An active event endpoint subscribed to every event."""
    from messaging.customer_webhooks.models import Event, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.filter(tenant=tenant).first()
    if endpoint is None:
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant, url="https://example.com/events", events=list(Event.values)
        )
    return endpoint.pk


def _event_delivery(tenant: Tenant) -> int:
    """A delivered event on the endpoint (owners may re-send it)."""
    from messaging.customer_webhooks.models import EventDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.get(pk=_endpoint(tenant))
    delivery, _ = EventDelivery.objects.get_or_create(
        tenant=tenant,
        endpoint=endpoint,
        key="webhook.test:sample",
        defaults={"url": endpoint.url, "event": "webhook.test", "status": "delivered"},
    )
    return delivery.pk


SAMPLES["endpoint_id"] = _endpoint
SAMPLES["event_delivery_id"] = _event_delivery
