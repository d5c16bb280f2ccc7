"""Writes for sender names: request, withdraw, approve, reject, revoke; deny-list edits.

Each decision is one conditional UPDATE from the state it expects (two staff clicking at once
decide once) and one audit event. `sender_name_allowed` is the single check every send path
uses (through messaging.services.sender_resolve).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_scopes import scope

from accounts.models import AuditEvent, Tenant, User
from accounts.services import audit_record
from messaging.senders.models import DeniedSenderName, SenderName
from messaging.senders.rules import FORMAT_HELP, deny_matches, fold, is_sender_name, name_key

Status = SenderName.Status


class SenderNameError(Exception):
    """Refused; the message is fit for the page."""


# --- the check every send uses -------------------------------------------------------------


def sender_name_allowed(*, tenant: Tenant, value: str) -> str | None:
    """The approved spelling of `value` for this tenant, or None when it is not approved."""
    return (
        SenderName.objects.filter(tenant=tenant, key=name_key(value), status=Status.APPROVED)
        .values_list("name", flat=True)
        .first()
    )


def deny_hit(name: str) -> DeniedSenderName | None:
    """The deny-list entry `name` matches, if any (the list is small: a few hundred rows).
    The most specific one is named: "Swedbank" for SwedbankInfo, not "Bank"."""
    hits = [
        entry
        for entry in DeniedSenderName.objects.all()
        if deny_matches(name, entry.term, exact=entry.exact)
    ]
    return max(hits, key=lambda entry: len(fold(entry.term)), default=None)


def _refusal(name: str, entry: DeniedSenderName) -> str:
    return (
        f"“{name}” cannot be used as a sender name: it is or looks like “{entry.term}”, the "
        "name of a bank, public body or carrier. To protect people from fraudulent texts, "
        "such names are never allowed. Choose a name that is clearly your own."
    )


# --- the tenant's side ---------------------------------------------------------------------


def sender_name_request(
    *,
    tenant: Tenant,
    name: str,
    purpose: str = "",
    actor: User | None,
    request: HttpRequest | None = None,
) -> SenderName:
    name = name.strip()
    # The deny list first: "SwedbankInfo" is refused as a bank's name, not for its length.
    entry = deny_hit(name)
    if entry is not None:
        # Worth knowing who tried: an attempt at a bank's name is a smishing signal.
        audit_record(
            action=AuditEvent.Action.SENDER_REFUSED,
            actor=actor,
            tenant=tenant,
            request=request,
            name=name,
            deny_term=entry.term,
        )
        raise SenderNameError(_refusal(name, entry))
    if not is_sender_name(name):
        raise SenderNameError(f"“{name}” is not a valid sender name: use {FORMAT_HELP}.")
    current = SenderName.objects.filter(
        tenant=tenant, key=name_key(name), status__in=SenderName.OPEN
    ).first()
    if current is not None:
        if current.status == Status.APPROVED:
            raise SenderNameError(f"“{current.name}” is already approved: you can send from it.")
        raise SenderNameError(f"“{current.name}” is already waiting for review.")
    try:
        with transaction.atomic():
            sender = SenderName.objects.create(
                tenant=tenant,
                name=name,
                key=name_key(name),
                purpose=purpose.strip()[:300],
                requested_by=actor if actor and actor.is_authenticated else None,
            )
    except IntegrityError as exc:  # a double submit created it a moment ago
        raise SenderNameError(f"“{name}” is already waiting for review.") from exc
    audit_record(
        action=AuditEvent.Action.SENDER_REQUESTED,
        actor=actor,
        tenant=tenant,
        request=request,
        sender_name=sender.pk,
        name=name,
    )
    return sender


def sender_name_withdraw(
    *, sender: SenderName, actor: User | None, request: HttpRequest | None = None
) -> None:
    """The tenant drops a pending request, or stops using an approved name."""
    _move(sender, SenderName.OPEN, Status.WITHDRAWN, actor=actor, reason="")
    _audit(AuditEvent.Action.SENDER_WITHDRAWN, sender, actor, request)


# --- staff decisions -----------------------------------------------------------------------


def sender_name_approve(
    *, sender: SenderName, actor: User | None, request: HttpRequest | None = None
) -> None:
    entry = deny_hit(sender.name)
    if entry is not None:
        raise SenderNameError(
            f"“{sender.name}” now matches the deny-list entry “{entry.term}”: reject it, or "
            "change the deny list first if this tenant really is that organisation."
        )
    _move(sender, (Status.PENDING,), Status.APPROVED, actor=actor, reason="")
    _audit(AuditEvent.Action.SENDER_APPROVED, sender, actor, request)


def sender_name_reject(
    *, sender: SenderName, reason: str, actor: User | None, request: HttpRequest | None = None
) -> None:
    reason = reason.strip()
    if not reason:
        raise SenderNameError("Give a reason: the tenant sees it.")
    _move(sender, (Status.PENDING,), Status.REJECTED, actor=actor, reason=reason)
    _audit(AuditEvent.Action.SENDER_REJECTED, sender, actor, request, reason=reason)


def sender_name_revoke(
    *, sender: SenderName, reason: str, actor: User | None, request: HttpRequest | None = None
) -> int:
    """Withdraw an approval; campaigns still to send from the name pause. Returns how many."""
    from messaging.campaigns.models import Campaign
    from messaging.campaigns.services import CampaignError, campaign_pause

    reason = reason.strip()
    if not reason:
        raise SenderNameError("Give a reason: the tenant sees it.")
    _move(sender, (Status.APPROVED,), Status.REVOKED, actor=actor, reason=reason)
    paused = 0
    with scope(tenant=sender.tenant_id):
        for campaign in Campaign.objects.filter(
            tenant=sender.tenant,
            sender=sender.name,
            status__in=[
                Campaign.Status.RUNNING,
                Campaign.Status.SCHEDULED,
                Campaign.Status.LAUNCHING,
            ],
        ):
            try:
                campaign_pause(
                    campaign=campaign,
                    actor=actor,
                    reason=f"The sender name “{sender.name}” is no longer approved: {reason}",
                )
            except CampaignError:
                continue  # it finished meanwhile
            paused += 1
    _audit(AuditEvent.Action.SENDER_REVOKED, sender, actor, request, reason=reason, paused=paused)
    return paused


def _move(
    sender: SenderName, sources: tuple[str, ...], target: str, *, actor: User | None, reason: str
) -> None:
    now = timezone.now()
    # Staff decide from the console (scopes off); the row is one tenant's, so act in its scope.
    with scope(tenant=sender.tenant_id):
        moved = SenderName.objects.filter(pk=sender.pk, status__in=sources).update(
            status=target,
            decision_reason=reason[:300],
            decided_by=actor if actor and actor.is_authenticated else None,
            decided_at=now,
        )
        sender.refresh_from_db()
    if not moved:
        raise SenderNameError(
            f"“{sender.name}” is {sender.get_status_display().lower()}: nothing changed."
        )


def _audit(
    action: str,
    sender: SenderName,
    actor: User | None,
    request: HttpRequest | None,
    **detail: object,
) -> None:
    audit_record(
        action=action,
        actor=actor,
        tenant=sender.tenant,
        request=request,
        sender_name=sender.pk,
        name=sender.name,
        **detail,
    )


# --- the deny list -------------------------------------------------------------------------


def deny_add(
    *,
    term: str,
    exact: bool = False,
    note: str = "",
    actor: User | None,
    request: HttpRequest | None = None,
) -> DeniedSenderName:
    term = " ".join(term.split())
    if not fold(term):
        raise SenderNameError("Write a name with at least one letter or digit.")
    if DeniedSenderName.objects.filter(term__iexact=term).exists():
        raise SenderNameError(f"“{term}” is already on the deny list.")
    entry = DeniedSenderName.objects.create(
        term=term,
        exact=exact,
        note=note.strip()[:200],
        created_by=actor if actor and actor.is_authenticated else None,
    )
    deny_audit(AuditEvent.Action.DENY_ADDED, entry, actor=actor, request=request)
    return entry


def deny_remove(
    *, entry: DeniedSenderName, actor: User | None, request: HttpRequest | None = None
) -> None:
    deny_audit(AuditEvent.Action.DENY_REMOVED, entry, actor=actor, request=request)
    entry.delete()


def deny_audit(
    action: str,
    entry: DeniedSenderName,
    *,
    actor: User | None,
    request: HttpRequest | None = None,
) -> None:
    audit_record(
        action=action,
        actor=actor,
        request=request,
        term=entry.term,
        exact=entry.exact,
        note=entry.note,
    )
