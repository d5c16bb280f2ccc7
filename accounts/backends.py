from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from accounts.models import Membership, Tenant


def has_usable_tenant(user: object) -> bool:
    return Membership.objects.filter(user=user, tenant__status=Tenant.Status.ACTIVE).exists()


class TenantAwareBackend(ModelBackend):
    """Email sign-in; customers need at least one active tenant (suspension locks them out)."""

    def user_can_authenticate(self, user: object) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return bool(getattr(user, "is_staff", False)) or has_usable_tenant(user)
