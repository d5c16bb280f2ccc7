"""Reads for sender names: what a tenant may send from, and staff's review queue."""

from __future__ import annotations

from accounts.models import Tenant
from messaging.senders.models import SenderName
from numbers.models import PhoneNumber

Choices = list[tuple[str, str] | tuple[str, list[tuple[str, str]]]]


def approved_names(tenant: Tenant) -> list[str]:
    return list(
        SenderName.objects.filter(tenant=tenant, status=SenderName.Status.APPROVED)
        .order_by("name")
        .values_list("name", flat=True)
    )


def sender_choices(tenant: Tenant, *, mms: bool = True) -> Choices:
    """The select of allowed senders: the tenant's active numbers, then approved names."""
    numbers = PhoneNumber.objects.filter(
        tenant=tenant, status=PhoneNumber.Status.ACTIVE, has_sms=True
    ).exclude(number="")
    if mms:
        numbers = numbers | PhoneNumber.objects.filter(
            tenant=tenant, status=PhoneNumber.Status.ACTIVE, has_mms=True
        ).exclude(number="")
    own = [(n, n) for n in numbers.order_by("number").values_list("number", flat=True).distinct()]
    names = [(n, n) for n in approved_names(tenant)]
    choices: Choices = [("", "— choose a sender —")]
    if own:
        choices.append(("Your numbers", own))
    if names:
        choices.append(("Approved sender names (SMS only)", names))
    return choices


def review_queue(*, decided: int = 100) -> tuple[list[SenderName], list[SenderName]]:
    """Every tenant's requests for staff: all pending (oldest first), then recent decisions."""
    rows = SenderName.objects.select_related("tenant", "requested_by", "decided_by")
    pending = list(rows.filter(status=SenderName.Status.PENDING).order_by("created", "id"))
    recent = list(
        rows.exclude(status=SenderName.Status.PENDING).order_by("-decided_at", "-id")[:decided]
    )
    return pending, recent
