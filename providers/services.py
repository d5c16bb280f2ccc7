"""Storing provider callbacks: one INSERT, idempotent on the provider's id."""

from __future__ import annotations

from providers.models import WebhookEvent


def webhook_store(
    *,
    provider: str,
    kind: str,
    dedupe_key: str,
    payload: dict[str, object],
    tenant_id: int | None = None,
    number_id: int | None = None,
) -> None:
    """Store a raw event; a replay of a stored one changes nothing.

    `bulk_create(ignore_conflicts=True)` is a single INSERT ... ON CONFLICT DO NOTHING, the
    cheapest idempotent write on both PostgreSQL and SQLite.
    """
    WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                provider=provider,
                kind=kind,
                dedupe_key=dedupe_key,
                payload=payload,
                tenant_id=tenant_id,
                number_id=number_id,
            )
        ],
        ignore_conflicts=True,
    )
