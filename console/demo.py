"""Demo data for `make demo`: one staff user and two tenants with an owner and a member each.

Idempotent: a second run finds what exists, re-provisions a subaccount the sandbox no longer
knows (its database was deleted), and resets the demo passwords to the printed ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django_scopes import scopes_disabled

from accounts.models import Membership, Tenant, User
from console.demo_api import demo_api_key
from console.demo_billing import demo_account, demo_history_rated, demo_invoices
from console.demo_panel import sandbox_control
from console.sync import provider_sync
from console.tenants import tenant_create
from console.traffic.services import traffic_rollup_rebuild
from providers.clients import elks_for_tenant, elks_master
from providers.elks.errors import ElksError

log = logging.getLogger(__name__)

DEMO_PASSWORD = "switchboard-demo"
STAFF_EMAIL = "staff@switchboard.test"


@dataclass(frozen=True)
class DemoTenant:
    name: str
    limit: int  # 1/10000 of SEK
    owner: str
    member: str
    owner_phone: str  # so click-to-call rings them in the sandbox
    member_phone: str


DEMO_TENANTS = [
    DemoTenant(
        "Acme Taxi",
        5_000 * 10_000,
        "owner@acme.test",
        "member@acme.test",
        "+46709990001",
        "+46709990002",
    ),
    DemoTenant(
        "Nordic Florist",
        1_500 * 10_000,
        "owner@florist.test",
        "member@florist.test",
        "+46709990003",
        "+46709990004",
    ),
]

# A list to send a campaign to: enough recipients that its run page has progress to show.
DEMO_LIST = "Regulars"
DEMO_CONTACTS = [
    "Alva Berg",
    "Bo Ek",
    "Cecilia Lund",
    "Dag Lind",
    "Eva Ström",
    "Fia Holm",
    "Gustav Nyberg",
    "Hanna Sjö",
    "Ivar Dahl",
    "Julia Wik",
    "Karl Öberg",
    "Lina Falk",
    "Måns Hed",
    "Nora Ask",
    "Olle Rask",
    "Pia Borg",
    "Rut Moberg",
    "Sam Lönn",
    "Tove Ahl",
    "Ulf Strand",
]


def _user(email: str, *, staff: bool = False, phone: str = "") -> User:
    user = User.objects.filter(email=email).first() or User(email=email)
    user.is_staff = user.is_superuser = staff
    user.is_active = True
    if phone:
        user.phone = phone
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def _ensure_subaccount(tenant: Tenant) -> bool:
    """Re-create the subaccount if the sandbox lost it (its state file was removed)."""
    try:
        elks_master().subaccount_get(tenant.elks_subaccount_id or "missing")
        return False
    except ElksError:
        pass
    sub = elks_master().subaccount_create(name=tenant.name, usagelimit=tenant.usage_limit)
    tenant.elks_subaccount_id, tenant.elks_secret = sub.id, sub.secret or ""
    tenant.status = Tenant.Status.ACTIVE
    tenant.save()
    return True


DEMO_PRICES = [  # (country, category, SEK per month)
    ("se", "mobile", 25),
    ("se", "fixed", 15),
    ("no", "mobile", 35),
    ("fi", "mobile", 35),
    ("dk", "mobile", 35),
    ("gb", "mobile", 20),
    ("us", "mobile", 15),
]


def _prices() -> None:
    from numbers.models import NumberPrice

    for country, category, units in DEMO_PRICES:
        NumberPrice.objects.get_or_create(
            country=country,
            category=category,
            currency="SEK",
            defaults={"monthly_price": units * 10_000},
        )


def _numbers(tenant: Tenant, owner: User, routing: dict[str, object]) -> None:
    """Rent a demo number with routing, through the same services as the dashboard."""
    import uuid

    from django_scopes import scope

    from numbers.services import number_rent, number_route

    with scope(tenant=tenant.pk):
        number = number_rent(
            tenant=tenant,
            country="se",
            capabilities=["sms", "mms", "voice"],
            category="mobile",
            request_key=uuid.uuid4(),
            actor=owner,
        )
        number_route(number=number, actor=owner, **routing)


# (approved, waiting for review): so the sender-name pages show both states.
DEMO_SENDER_NAMES = {
    "Acme Taxi": ("AcmeTaxi", "AcmeCabs"),
    "Nordic Florist": ("NordicFlor", "Blomster"),
}


def _sender_names(tenant: Tenant, owner: User, staff: User) -> None:
    """One approved sender name and one request waiting for staff, through the services."""
    from django_scopes import scope

    from messaging.senders.models import SenderName
    from messaging.senders.services import sender_name_approve, sender_name_request

    approved, pending = DEMO_SENDER_NAMES[tenant.name]
    with scope(tenant=tenant.pk):
        if SenderName.objects.filter(tenant=tenant).exists():
            return
        sender = sender_name_request(
            tenant=tenant, name=approved, purpose="Confirmations to our customers", actor=owner
        )
        sender_name_approve(sender=sender, actor=staff)
        sender_name_request(
            tenant=tenant, name=pending, purpose="Offers to subscribers", actor=owner
        )


DEMO_ROUTING = {
    "Acme Taxi": {
        "label": "Bookings",
        "voice_forwards": [{"to": "+46701234567", "timeout": 20}],
        "voicemail_enabled": True,
        "sms_forward_to": "+46701234567",
    },
    "Nordic Florist": {
        "label": "Orders",
        "sms_autoreply_enabled": True,
        "sms_autoreply_text": "Thanks! We reply within the hour.",
        "voicemail_enabled": True,
    },
}


def _some_traffic(tenant: Tenant) -> None:
    """A few sandbox SMS so usage bars are not all empty."""
    client = elks_for_tenant(tenant)
    for n in range(3):
        client.sms_send(from_="Switchbrd", to=f"+4670123456{n}", message=f"Demo message {n + 1}")


@scopes_disabled()
def seed_demo() -> list[tuple[str, str]]:
    """Seed (idempotently) and return the logins to print; an API key created on this run is
    added as a ("API key …", "id:secret") line, since its secret cannot be shown later."""
    staff = _user(STAFF_EMAIL, staff=True)
    _prices()
    logins = [("Staff", STAFF_EMAIL)]
    for demo in DEMO_TENANTS:
        tenant = Tenant.objects.filter(name=demo.name).first()
        if tenant is None:
            tenant = tenant_create(
                name=demo.name,
                usage_limit=demo.limit,
                owner_email=demo.owner,
                actor=staff,
                request=None,
            ).tenant
            demo_account(tenant=tenant, staff=staff)
            _some_traffic(tenant)
            owner = _user(demo.owner)
            _numbers(tenant, owner, DEMO_ROUTING[demo.name])
        elif _ensure_subaccount(tenant):
            demo_account(tenant=tenant, staff=staff)
            _numbers(tenant, _user(demo.owner), DEMO_ROUTING[demo.name])
        owner = _user(demo.owner, phone=demo.owner_phone)
        member = _user(demo.member, phone=demo.member_phone)
        Membership.objects.get_or_create(
            user=owner, tenant=tenant, defaults={"role": Membership.Role.OWNER}
        )
        Membership.objects.get_or_create(
            user=member, tenant=tenant, defaults={"role": Membership.Role.MEMBER}
        )
        _sender_names(tenant, owner, staff)
        _contacts(tenant, offset=DEMO_TENANTS.index(demo))
        logins += [(f"{demo.name} owner", demo.owner), (f"{demo.name} member", demo.member)]
    for demo in DEMO_TENANTS:
        _history(Tenant.objects.get(name=demo.name), seed=DEMO_TENANTS.index(demo))
    acme, florist = (Tenant.objects.get(name=demo.name) for demo in DEMO_TENANTS)
    for tenant in (acme, florist):
        demo_history_rated(tenant)
    demo_invoices(acme=acme, staff=staff)
    provider_sync()
    _repoint_numbers(staff)
    # The charts read daily rollups: build them over the seeded days before beat takes over
    # (the backfill is idempotent, as this seeding is).
    traffic_rollup_rebuild(HISTORY_DAYS + 1)
    made = demo_api_key(tenant=acme, owner=_user(DEMO_TENANTS[0].owner))
    if made is not None:
        logins.append(("Acme API key (id:secret)", f"{made[0]}:{made[1]}"))
    return logins


HISTORY_DAYS = 60


def _history(tenant: Tenant, *, seed: int) -> None:
    """Past traffic over the last HISTORY_DAYS days, so the charts have something to show.

    Rows only (the sandbox has no past to replay), marked as 46elks history so usage does not
    count them twice; written once per tenant.
    """
    import random
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import UsageSnapshot
    from billing.selectors import month_start
    from calls.models import Call
    from messaging.models import Message
    from numbers.models import PhoneNumber

    if Message.objects.filter(tenant=tenant, source=Message.Source.HISTORY).exists():
        return
    number = PhoneNumber.objects.filter(tenant=tenant, status="active").first()
    if number is None:
        return
    rng = random.Random(seed)  # the same history on every machine
    now = timezone.now()
    messages: list[Message] = []
    calls: list[Call] = []
    for day in range(HISTORY_DAYS, 0, -1):
        weekday = (now - timedelta(days=day)).weekday()
        busy = (1.0 if weekday < 5 else 0.4) * (1 + (HISTORY_DAYS - day) / HISTORY_DAYS)
        for _ in range(int(rng.randint(6, 14) * busy)):
            at = now - timedelta(days=day, seconds=rng.randint(0, 86_000))
            other = f"+4670{rng.randint(1_000_000, 9_999_999)}"
            outgoing = rng.random() < 0.6
            if outgoing:
                failed = rng.random() < 0.06
                parts = rng.choice([1, 1, 1, 2])
                messages.append(
                    Message(
                        tenant=tenant,
                        number=number,
                        direction=Message.Direction.OUT,
                        source=Message.Source.HISTORY,
                        status=Message.Status.FAILED if failed else Message.Status.DELIVERED,
                        ours=number.number,
                        other=other,
                        body="Your car is on its way.",
                        parts=parts,
                        cost=3_500 * parts,
                        created=at,
                        sent_at=at,
                        delivered_at=None if failed else at + timedelta(seconds=4),
                        failed_at=at + timedelta(seconds=30) if failed else None,
                        updated=at,
                    )
                )
            else:
                messages.append(
                    Message(
                        tenant=tenant,
                        number=number,
                        direction=Message.Direction.IN,
                        source=Message.Source.HISTORY,
                        status=Message.Status.RECEIVED,
                        ours=number.number,
                        other=other,
                        body="Thanks!",
                        created=at,
                        read_at=at,
                        updated=at,
                    )
                )
        for _ in range(int(rng.randint(1, 5) * busy)):
            at = now - timedelta(days=day, seconds=rng.randint(0, 86_000))
            answered = rng.random() < 0.8
            duration = rng.randint(20, 400) if answered else 0
            calls.append(
                Call(
                    tenant=tenant,
                    number=number,
                    direction=rng.choice(
                        [Call.Direction.IN, Call.Direction.IN, Call.Direction.OUT]
                    ),
                    source=Call.Source.HISTORY,
                    state=Call.State.SUCCESS if answered else Call.State.FAILED,
                    ours=number.number,
                    other=f"+4670{rng.randint(1_000_000, 9_999_999)}",
                    created=at,
                    start=at,
                    duration=duration,
                    cost=(duration // 60 + 1) * 4_500 if answered else 0,
                    updated=at,
                )
            )
    Message.objects.bulk_create(messages, batch_size=500)
    Call.objects.bulk_create(calls, batch_size=500)
    # 46elks would have counted this traffic: so does the sandbox, or the usage card and the
    # spend chart would disagree.
    spent = sum(m.cost or 0 for m in messages) + sum(c.cost or 0 for c in calls)
    sandbox_control("spend", {"subaccount": tenant.elks_subaccount_id, "amount": spent})
    # The tenant has been a customer since its history began, and its spend before this month
    # was snapshotted then: "usage this month" is this month's, as the spend chart says.
    start = month_start(now)
    before = sum(m.cost or 0 for m in messages if m.created < start)
    before += sum(c.cost or 0 for c in calls if c.created < start)
    Tenant.objects.filter(pk=tenant.pk).update(created=now - timedelta(days=HISTORY_DAYS + 1))
    UsageSnapshot.objects.create(
        tenant=tenant, balanceused=before, taken_at=start - timedelta(seconds=1)
    )


def _contacts(tenant: Tenant, *, offset: int) -> None:
    """Named contacts in one list, once per tenant (a second run finds the list)."""
    from django_scopes import scope

    from messaging.contacts.models import ContactList
    from messaging.contacts.services import contact_create, list_create

    with scope(tenant=tenant.pk):
        if ContactList.objects.filter(tenant=tenant, name=DEMO_LIST).exists():
            return
        regulars = list_create(tenant=tenant, name=DEMO_LIST)
        for n, name in enumerate(DEMO_CONTACTS):
            phone = f"+467055{offset}{n:04d}"
            contact_create(tenant=tenant, phone=phone, name=name, lists=[regulars])


def _repoint_numbers(staff: User) -> None:
    """Point numbers whose callbacks go elsewhere (the demo moved address) at this demo.

    The sync just compared each number's callback URLs at the sandbox with the ones this
    address gives (PUBLIC_BASE_URL); without this, inbound SMS and calls would go to the old one.
    """
    from numbers.models import PhoneNumber, Provider
    from numbers.services import number_reapply_routing

    drifted = PhoneNumber.objects.filter(
        status=PhoneNumber.Status.ACTIVE, provider=Provider.ELKS, provider_drift__isnull=False
    )
    for number in drifted.select_related("tenant"):
        number_reapply_routing(number=number, actor=staff)
