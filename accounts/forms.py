from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm

from accounts import throttle
from accounts.backends import has_usable_tenant
from accounts.models import Membership, Tenant, User

MAX_LIMIT_UNITS = Decimal("10000000")  # 10 million in the currency; above that is a typo


class MoneyField(forms.DecimalField):
    """Entered in the currency unit (e.g. 500.00), cleaned to 46elks' 1/10000 integer."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", MAX_LIMIT_UNITS)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_digits", 12)
        super().__init__(**kwargs)
        self.error_messages["min_value"] = "The limit cannot be negative."
        self.error_messages["max_value"] = (
            "That is more than 10,000,000 — check the number (the limit is in the currency "
            "unit, not öre)."
        )

    def clean(self, value: object) -> int | None:
        amount = super().clean(value)
        if amount is None:
            return None
        return int((amount * 10_000).quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    def prepare_value(self, value: object) -> object:
        if isinstance(value, int):
            return (Decimal(value) / 10_000).quantize(Decimal("0.01"))
        return value


class LoginForm(AuthenticationForm):
    """Email sign-in, throttled per account and per address, with a clear suspension message."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
        "throttled": "Too many failed sign-ins. Wait a few minutes and try again.",
        "suspended": "Your organisation's account is suspended. Contact your provider.",
    }

    def clean(self) -> dict[str, object]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email and password:
            # The backend enforces the throttle on every path; asking first only lets this
            # page say why instead of "do not match".
            keys = throttle.throttle_keys(
                request=self.request, identifier=email, user=throttle.resolve_user(email)
            )
            if throttle.is_blocked(keys):
                raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
            self.user_cache = authenticate(self.request, username=email, password=password)
            if self.user_cache is None:
                self._raise_specific_error(email, password)
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def _raise_specific_error(self, email: str, password: str) -> None:
        # Only after the right password do we say why: it reveals nothing to a guesser.
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        allowed_elsewhere = user is None or user.is_staff or has_usable_tenant(user)
        if not allowed_elsewhere and user.check_password(password):
            raise forms.ValidationError(self.error_messages["suspended"], code="suspended")


class TenantCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The customer's name, as they know it.")
    usage_limit = MoneyField(
        label="Usage limit", help_text="Maximum spend at 46elks, in the account currency."
    )
    owner_email = forms.EmailField(
        label="Owner's email", help_text="Gets a link to choose a password."
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter a name.")
        if Tenant.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A tenant named “{name}” already exists.")
        return name

    def clean_owner_email(self) -> str:
        email = self.cleaned_data["owner_email"].strip().lower()
        if User.objects.filter(email__iexact=email, is_staff=True).exists():
            raise forms.ValidationError("That is a staff user's email; staff cannot own a tenant.")
        return email


class UsageLimitForm(forms.Form):
    usage_limit = MoneyField(label="New usage limit")


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def __init__(self, *args: object, tenant: Tenant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.filter(tenant=self.tenant, user__email__iexact=email).exists():
            raise forms.ValidationError(f"{email} is already a member.")
        if User.objects.filter(email__iexact=email, is_staff=True).exists():
            raise forms.ValidationError("That is a staff user's email; staff cannot join.")
        return email


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "phone"]
        labels = {"phone": "Your phone"}
        help_texts = {"phone": "For click-to-call: 46elks rings this phone first."}

    def clean_phone(self) -> str:
        from core.phone import to_e164

        value = self.cleaned_data["phone"].strip()
        return to_e164(value, region="SE") if value else ""


class ConfirmForm(forms.Form):
    """A destructive action typed out: the user must type `expected` exactly."""

    confirm = forms.CharField(label="Type the name to confirm")

    def __init__(self, *args: object, expected: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.expected:
            raise forms.ValidationError(f"Type “{self.expected}” exactly to confirm.")
        return value
