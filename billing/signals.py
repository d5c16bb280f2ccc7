from __future__ import annotations

from typing import Any

from accounts.models import Tenant


def tenant_saved(sender: type[Tenant], instance: Tenant, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        from billing.services import account_create

        account_create(tenant=instance)
