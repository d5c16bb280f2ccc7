from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.forms import MoneyField
from accounts.models import Tenant
from core.phone import to_e164
from core.url_safety import UnsafeURL, public_addresses
from numbers.models import Category, NumberPolicy, NumberPrice, PhoneNumber
from numbers.selectors import rentable_countries

CAPABILITY_CHOICES = [("sms", "SMS"), ("mms", "MMS"), ("voice", "Voice")]
MAX_FORWARDS = 3


class RentForm(forms.Form):
    country = forms.ChoiceField(
        choices=(),
        help_text="The countries we rent numbers in. 46elks picks the number itself; "
        "a specific number cannot be chosen.",
        error_messages={
            "invalid_choice": "Numbers in that country are not offered yet: choose one from the "
            "list, or ask your provider to add it."
        },
    )
    category = forms.ChoiceField(choices=Category.choices, initial=Category.MOBILE)
    capabilities = forms.MultipleChoiceField(
        choices=CAPABILITY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["sms", "voice"],
        help_text="Fixed-line numbers cannot have SMS.",
    )
    request_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read per form: a price added by staff is offered at once.
        field = self.fields["country"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Choose a country"), *rentable_countries()]

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).lower()

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("category") == Category.FIXED and "sms" in (data.get("capabilities") or []):
            self.add_error("capabilities", "Fixed-line numbers cannot have SMS.")
        return data


def _validate_public_url(url: str) -> None:
    """Refuse URLs that point into our own network (SSRF) or at a port other than the allowed
    ones; the worker checks DNS again at send time."""
    try:
        public_addresses(url)
    except UnsafeURL as exc:
        raise ValidationError(str(exc)) from exc


class RoutingForm(forms.ModelForm):
    sms_webhook_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Also post SMS and MMS to your webhook",
        help_text="An https:// URL of yours; each SMS and MMS is posted as signed JSON.",
    )
    # The choices are the tenant's own greetings, set per request (the manager is scoped).
    voicemail_greeting = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Built-in greeting",
        label="Voicemail greeting",
    )
    forward_1 = forms.CharField(required=False, label="Forward calls to")
    timeout_1 = forms.IntegerField(
        required=False, min_value=5, max_value=120, initial=20, label="Ring for (seconds)"
    )
    forward_2 = forms.CharField(required=False, label="Then to")
    timeout_2 = forms.IntegerField(
        required=False, min_value=5, max_value=120, initial=20, label="Ring for (seconds)"
    )
    forward_3 = forms.CharField(required=False, label="Then to")
    timeout_3 = forms.IntegerField(
        required=False, min_value=5, max_value=120, initial=20, label="Ring for (seconds)"
    )

    class Meta:
        model = PhoneNumber
        fields = [
            "label",
            "note",
            "sms_forward_to",
            "sms_webhook_url",
            "sms_autoreply_enabled",
            "sms_autoreply_text",
            "voicemail_enabled",
            "voicemail_greeting",
            "record_calls",
        ]
        labels = {
            "sms_forward_to": "Also forward SMS to",
            "sms_webhook_url": "Also post SMS and MMS to your webhook",
            "sms_autoreply_enabled": "Send an automatic reply",
            "sms_autoreply_text": "Reply text",
            "voicemail_enabled": "Voicemail when nobody answers",
            "record_calls": "Record forwarded calls",
        }
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "sms_autoreply_text": "Charged like any SMS. Never sent to a stop word or to "
            "anyone who opted out (set the reply to a stop word in Messages → Settings).",
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for i, forward in enumerate(self.instance.voice_forwards[:MAX_FORWARDS], start=1):
            self.initial[f"forward_{i}"] = forward["to"]
            self.initial[f"timeout_{i}"] = forward.get("timeout", 20)
        self.region = (self.instance.country or "se").upper()
        # calls.Greeting through the string FK: numbers never imports calls' models.
        greeting = PhoneNumber._meta.get_field("voicemail_greeting").related_model
        self.fields["voicemail_greeting"].queryset = greeting.objects.all()

    def clean_sms_forward_to(self) -> str:
        value = self.cleaned_data["sms_forward_to"].strip()
        return to_e164(value, region=self.region) if value else ""

    def clean_sms_webhook_url(self) -> str:
        value = self.cleaned_data["sms_webhook_url"].strip()
        if value:
            _validate_public_url(value)
        return value

    def clean(self) -> dict[str, object]:
        data = super().clean()
        forwards = []
        for i in range(1, MAX_FORWARDS + 1):
            raw = (data.get(f"forward_{i}") or "").strip()
            if not raw:
                continue
            try:
                to = to_e164(raw, region=self.region)
            except ValidationError as exc:
                self.add_error(f"forward_{i}", exc)
                continue
            forwards.append({"to": to, "timeout": data.get(f"timeout_{i}") or 20})
        if data.get("sms_autoreply_enabled") and not (data.get("sms_autoreply_text") or "").strip():
            self.add_error("sms_autoreply_text", "Write the reply, or turn automatic reply off.")
        if data.get("record_calls") and not forwards:
            self.add_error("record_calls", "Recording applies to forwarded calls: add a forward.")
        if not self.instance.has_voice and (forwards or data.get("voicemail_enabled")):
            self.add_error(None, "This number has no voice capability.")
        if not self.instance.has_sms and (
            data.get("sms_forward_to") or data.get("sms_webhook_url")
        ):
            self.add_error(None, "This number has no SMS capability.")
        data["voice_forwards"] = forwards
        return data

    def routing(self) -> dict[str, object]:
        data = self.cleaned_data
        return {**{f: data[f] for f in self.Meta.fields}, "voice_forwards": data["voice_forwards"]}


class ReleaseForm(forms.Form):
    confirm = forms.CharField(label="Type the number to confirm")

    def __init__(self, *args: object, number: PhoneNumber, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.number = number

    def clean_confirm(self) -> str:
        typed = "".join(ch for ch in self.cleaned_data["confirm"] if ch.isdigit())
        if typed != self.number.number.lstrip("+"):
            raise ValidationError(f"Type {self.number.number} exactly to confirm.")
        return typed


class PriceForm(forms.ModelForm):
    monthly_price = MoneyField(label="Monthly price")

    class Meta:
        model = NumberPrice
        fields = ["country", "category", "currency", "monthly_price"]

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().lower()
        if len(country) != 2 or not country.isalpha():
            raise ValidationError("Use the two-letter country code, e.g. SE.")
        return country

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()


class PolicyForm(forms.ModelForm):
    class Meta:
        model = NumberPolicy
        fields = ["quarantine_days"]


class AssignForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.filter(status=Tenant.Status.ACTIVE))


class CloseTenantForm(forms.Form):
    confirm = forms.CharField(label="Type the tenant's name to confirm")

    def __init__(self, *args: object, tenant: Tenant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_confirm(self) -> str:
        if self.cleaned_data["confirm"].strip() != self.tenant.name:
            raise ValidationError(f"Type “{self.tenant.name}” exactly to confirm.")
        return self.cleaned_data["confirm"]


class RotateCallbacksForm(forms.Form):
    revoke_old = forms.BooleanField(
        required=False,
        initial=True,
        label="Refuse the old callback URLs at once",
        help_text=(
            "Tick when a token leaked. Untick for a routine rotation: the old URLs then keep "
            "working for a few hours so 46elks' retries still land."
        ),
    )


class InfobipSearchForm(forms.Form):
    country = forms.CharField(max_length=2, min_length=2, initial="SE")
    capabilities = forms.MultipleChoiceField(
        choices=[("SMS", "SMS"), ("VOICE", "Voice"), ("MMS", "MMS")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    number = forms.CharField(required=False, label="Digits to match", max_length=15)
    page = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean_number(self) -> str:
        value = self.cleaned_data["number"].strip()
        if value and not value.isdigit():
            raise ValidationError("Digits only.")
        return value
