"""Forms for sender names; the rules (format, deny list, decisions) live in services."""

from __future__ import annotations

from django import forms

from messaging.senders.rules import FORMAT_HELP


class SenderNameRequestForm(forms.Form):
    name = forms.CharField(
        label="Sender name",
        max_length=40,  # the 46elks format (at most 11) is checked by the service
        help_text=f"{FORMAT_HELP[0].upper()}{FORMAT_HELP[1:]}. What recipients see as the "
        "sender; they cannot reply to it.",
    )
    purpose = forms.CharField(
        label="What you send from it",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E.g. “Booking confirmations for our taxi customers”. Helps us approve it.",
    )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label="Reason (the tenant sees it)",
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Not your brand name"}),
    )


class DenyForm(forms.Form):
    term = forms.CharField(label="Name", max_length=60)
    exact = forms.BooleanField(
        required=False,
        label="Only this exact name",
        help_text="For short names (Tre, SEB) that are also parts of ordinary words.",
    )
    note = forms.CharField(label="Note", max_length=200, required=False)
