"""The platform-wide 46elks send rate, one bucket shared by every worker (core.ratelimit).

Celery's own rate_limit is per worker process; the provider's limit is per account, so the
bucket lives in Redis where all workers see it.
"""

from __future__ import annotations

from django.conf import settings

from core.ratelimit import TokenBucket


def provider_bucket() -> TokenBucket:
    """The platform-wide 46elks send rate."""
    return TokenBucket("elks-sms", rate=settings.CAMPAIGN_PROVIDER_RATE)
