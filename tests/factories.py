import factory
from django.utils import timezone

from accounts.models import Membership, Tenant, User
from providers.models import WebhookEvent


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery")


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@reseller.example")
    is_staff = True


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    status = Tenant.Status.ACTIVE
    elks_subaccount_id = factory.Sequence(lambda n: f"a{n:032x}")
    elks_secret = factory.Sequence(lambda n: f"SECRET{n:026X}")
    usage_limit = 1_000_000_000
    usage = 0
    created = factory.LazyFunction(timezone.now)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Membership.Role.MEMBER


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A stored callback; set `status`, `received`, `processed`, `next_attempt` as a test needs."""

    class Meta:
        model = WebhookEvent

    provider = "elks"
    kind = "sms"
    dedupe_key = factory.Sequence(lambda n: f"s{n}")
    payload = factory.LazyAttribute(lambda e: {"id": e.dedupe_key})


def approved_sender(tenant: Tenant, name: str = "Shop") -> None:
    """A sender name staff approved for `tenant` (campaigns and compose send only from these)."""
    from django_scopes import scopes_disabled

    from messaging.senders.models import SenderName

    with scopes_disabled():
        SenderName.objects.get_or_create(
            tenant=tenant,
            key=name.casefold(),
            status=SenderName.Status.APPROVED,
            defaults={"name": name, "decided_at": timezone.now()},
        )
