"""Forms of the API pages: a new key (owners), members' access (owners), limits (staff)."""

from __future__ import annotations

from typing import Any

from django import forms

from api.models import ApiSettings, Scope

# Ceilings that keep a typo from opening the API wide: far above any customer's need, far
# below what one tenant could do to the shared processes.
MAX_RATE = 500
MAX_BURST = 5_000


class KeyCreateForm(forms.Form):
    label = forms.CharField(
        max_length=80,
        label="Name",
        help_text="What uses the key, such as “Booking system” or “Alarm centre”.",
        error_messages={"required": "Give the key a name, such as the system that will use it."},
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        label="What the key may do",
        error_messages={"required": "Choose at least one permission."},
    )


class MembersSeeKeysForm(forms.Form):
    members_see_keys = forms.BooleanField(
        required=False, label="Members may see the API keys (never create or revoke them)"
    )


class ApiLimitsForm(forms.Form):
    """Per-key and per-tenant token buckets: `rate` requests per second, `burst` at once."""

    key_rate = forms.IntegerField(
        min_value=1, max_value=MAX_RATE, label="Each key: requests per second"
    )
    key_burst = forms.IntegerField(
        min_value=1, max_value=MAX_BURST, label="Each key: burst (requests at once)"
    )
    tenant_rate = forms.IntegerField(
        min_value=1, max_value=MAX_RATE, label="All keys together: requests per second"
    )
    tenant_burst = forms.IntegerField(
        min_value=1, max_value=MAX_BURST, label="All keys together: burst (requests at once)"
    )

    FIELDS = ("key_rate", "key_burst", "tenant_rate", "tenant_burst")

    @classmethod
    def for_settings(cls, current: ApiSettings, data: Any = None) -> ApiLimitsForm:
        return cls(data, initial={name: getattr(current, name) for name in cls.FIELDS})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key_rate, key_burst = data.get("key_rate"), data.get("key_burst")
        tenant_rate, tenant_burst = data.get("tenant_rate"), data.get("tenant_burst")
        # A burst below the rate would cap every second below the rate it allows.
        if key_rate and key_burst and key_burst < key_rate:
            self.add_error("key_burst", "The burst must be at least the rate per second.")
        if tenant_rate and tenant_burst and tenant_burst < tenant_rate:
            self.add_error("tenant_burst", "The burst must be at least the rate per second.")
        # The tenant's bucket is charged on every key's request: a key above it is never reached.
        if key_rate and tenant_rate and key_rate > tenant_rate:
            self.add_error("key_rate", "A key cannot be faster than all keys together.")
        if key_burst and tenant_burst and key_burst > tenant_burst:
            self.add_error("key_burst", "A key's burst cannot exceed the burst of all keys.")
        return data

    def changes(self, current: ApiSettings) -> dict[str, int]:
        """The values that differ from `current` (only those are saved and audited)."""
        return {
            name: self.cleaned_data[name]
            for name in self.FIELDS
            if self.cleaned_data[name] != getattr(current, name)
        }
