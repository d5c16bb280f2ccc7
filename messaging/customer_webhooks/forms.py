"""The event endpoint form: the URL checked as number webhook URLs are, and its events."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from core.url_safety import UnsafeURL, public_addresses
from messaging.customer_webhooks.models import Event


class EndpointForm(forms.Form):
    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        label="URL",
        help_text="An https:// URL of yours; each event is posted as signed JSON.",
    )
    events = forms.MultipleChoiceField(
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Events",
        error_messages={"required": "Choose at least one event."},
    )
    description = forms.CharField(max_length=200, required=False, label="Description")

    def clean_url(self) -> str:
        value: str = self.cleaned_data["url"].strip()
        # Refuses our own network (SSRF) and other ports; the worker checks DNS again when it
        # posts. https only, unless the tests' and demo's setting allows private http.
        allow_private = getattr(settings, "CUSTOMER_WEBHOOK_ALLOW_PRIVATE", False)
        try:
            public_addresses(value, allow_private=allow_private)
        except UnsafeURL as exc:
            raise ValidationError(str(exc)) from exc
        return value
