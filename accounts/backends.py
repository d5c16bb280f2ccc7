from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts import throttle
from accounts.models import Membership, Tenant, User


def has_usable_tenant(user: object) -> bool:
    return Membership.objects.filter(user=user, tenant__status=Tenant.Status.ACTIVE).exists()


class TenantAwareBackend(ModelBackend):
    """Email sign-in; customers need at least one active tenant (suspension locks them out).

    Every sign-in path (the portal, /admin/login/, API basic auth) comes through
    authenticate(), so the throttle (accounts/throttle.py) is applied here, once.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = throttle.resolve_user(username)
        keys = throttle.throttle_keys(request=request, identifier=username, user=user)
        if throttle.is_blocked(keys):
            User().set_password(password)  # the same work as a check, so timing tells nothing
            return None
        if user is None:
            User().set_password(password)  # as ModelBackend: an unknown email costs the same
        elif user.check_password(password) and self.user_can_authenticate(user):
            throttle.success_record(keys)
            return user
        throttle.failure_record(keys)
        return None

    def user_can_authenticate(self, user: object) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return bool(getattr(user, "is_staff", False)) or has_usable_tenant(user)
