"""Forms for the messaging pages. Sending rules stay in services; forms parse and report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from accounts.models import Tenant
from core.phone import to_e164
from messaging.models import Message, MessagingSettings, OptOut
from messaging.pickers import CountryField, country_choices, zone_choices
from messaging.senders.selectors import sender_choices
from messaging.services import (
    SendError,
    parts_check,
    recipients_parse,
    sender_resolve,
    settings_for,
)

# A text longer than this many parts needs an explicit confirmation before it is sent.
CONFIRM_PARTS_ABOVE = 3

# Magic bytes of the image types 46elks accepts for MMS: what the file is, not what it is named.
IMAGE_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from a file's first bytes, or None for anything else."""
    for magic, content_type, ext in IMAGE_SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


class ComposeForm(forms.Form):
    kind = forms.ChoiceField(
        choices=Message.Kind.choices,
        initial=Message.Kind.SMS,
        widget=forms.RadioSelect,
        label="Type",
    )
    sender = forms.ChoiceField(
        label="From",
        help_text="Your numbers, and the sender names approved for this account (SMS only: "
        "recipients cannot reply to a name).",
        error_messages={
            "required": "Choose whom to send from.",
            "invalid_choice": "Send from one of your numbers or approved sender names.",
        },
    )
    recipients = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Phone numbers separated by commas or new lines.",
    )
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, strip=False)
    image = forms.FileField(
        required=False, help_text="MMS only: a JPEG, PNG or GIF image.", label="Image"
    )
    flash = forms.BooleanField(
        required=False, label="Flash SMS", help_text="Shown at once, not stored on the phone."
    )
    delivery_report = forms.BooleanField(required=False, initial=True, label="Delivery report")
    # Asked for only when the text is longer than CONFIRM_PARTS_ABOVE parts.
    confirm_long = forms.BooleanField(required=False, label="Send this long message")
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["sender"].choices = sender_choices(tenant)
        self.fields["image"].widget.attrs["accept"] = "image/jpeg,image/png,image/gif"
        self.image_data: bytes | None = None
        self.image_type: tuple[str, str] | None = None

    def clean_recipients(self) -> list[str]:
        region = settings_for(self.tenant).default_country
        try:
            return recipients_parse(self.cleaned_data["recipients"], region=region)
        except SendError as exc:
            raise ValidationError(str(exc)) from exc

    def clean_image(self) -> UploadedFile | None:
        image: UploadedFile | None = self.cleaned_data.get("image")
        if not image:
            return None
        if image.size > settings.MMS_MAX_BYTES:
            limit = settings.MMS_MAX_BYTES // 1000
            raise ValidationError(f"The image is too large: at most {limit} kB.")
        data = image.read()
        found = sniff_image(data[:16])
        if found is None:
            raise ValidationError("Only JPEG, PNG and GIF images can be sent.")
        self.image_data, self.image_type = data, found
        return image

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind") or Message.Kind.SMS
        if data.get("sender"):
            try:
                data["sender"] = sender_resolve(
                    tenant=self.tenant, value=data["sender"], kind=kind
                ).ours
            except SendError as exc:
                self.add_error("sender", str(exc))
        body = data.get("message") or ""
        if kind == Message.Kind.SMS:
            if not body.strip():
                self.add_error("message", "Write a message.")
            else:
                self._check_length(body, bool(data.get("confirm_long")))
            if self.image_data is not None:
                self.add_error("image", "Images are sent as MMS: choose MMS as the type.")
        elif not body.strip() and self.image_data is None:
            self.add_error("image", "An MMS needs an image or a text.")
        return data

    def _check_length(self, body: str, confirmed: bool) -> None:
        """Refuse a text over the tenant's parts limit; ask to confirm one over three parts."""
        try:
            parts = parts_check(tenant=self.tenant, body=body)
        except SendError as exc:
            self.add_error("message", str(exc))
            return
        if parts > CONFIRM_PARTS_ABOVE and not confirmed:
            self.add_error(
                "confirm_long",
                f"This text is sent as {parts} SMS parts to each recipient, and each part is "
                "charged. Tick the box to confirm, or shorten it.",
            )


class OptOutRecordForm(forms.Form):
    phone = forms.CharField(label="Phone number", max_length=30)
    kind = forms.ChoiceField(
        choices=[(OptOut.Kind.OUT, "Opt out (stop messages)"), (OptOut.Kind.IN, "Opt in again")],
        label="Record",
    )
    word = forms.CharField(
        required=False, max_length=30, label="Note", help_text="Why, e.g. “by phone”."
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_phone(self) -> str:
        region = settings_for(self.tenant).default_country
        return to_e164(self.cleaned_data["phone"], region=region)


class MessagingSettingsForm(forms.ModelForm):
    default_country = CountryField(
        label="Default country",
        help_text="For numbers typed in national format.",
        error_messages={"invalid_choice": "Choose a country from the list."},
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,  # a form without it keeps the zone set
        help_text="New campaigns are scheduled in it.",
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )

    class Meta:
        model = MessagingSettings
        fields = [
            "default_country",
            "time_zone",
            "stop_words",
            "start_words",
            "stop_reply",
            "dontlog",
            "retention_days",
            "max_sms_parts",
        ]
        labels = {
            "default_country": "Default country",
            "stop_words": "Stop words",
            "start_words": "Start words",
            "stop_reply": "Reply to a stop word with",
            "dontlog": "Keep message text out of 46elks' logs",
            "retention_days": "Keep message text for (days)",
            "max_sms_parts": "Longest SMS, in parts",
        }
        widgets = {"stop_reply": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "stop_words": "Comma separated. An inbound SMS that is one of these opts the "
            "sender out.",
            "start_words": "Comma separated. Opts the sender in again.",
            "stop_reply": "One confirmation sent to whoever opts out, e.g. “You will get no "
            "more messages from us.” Leave empty to send nothing. After it they get nothing, "
            "not even automatic replies.",
        }

    def __init__(self, *args: Any, staff: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current: MessagingSettings = self.instance
        country = self.fields["default_country"]
        zone = self.fields["time_zone"]
        assert isinstance(country, forms.ChoiceField) and isinstance(zone, forms.ChoiceField)
        country.choices = country_choices(first=current.default_country)
        country.widget.attrs["data-filter"] = "Type to find a country"
        zone.choices = zone_choices(current=current.time_zone)
        zone.widget.attrs["data-filter"] = "Type to find a city"
        # A safety limit the customer cannot lift alone: only staff (viewing the portal) may.
        field = self.fields["max_sms_parts"]
        if staff:
            field.help_text = (
                "Staff only. A longer text is refused; over 3 parts needs a confirmation."
            )
        else:
            field.disabled = True
            field.help_text = (
                "A longer text is refused, and one over 3 parts asks for a confirmation. "
                "Ask us if you need longer messages."
            )

    def clean_time_zone(self) -> str:
        current: MessagingSettings = self.instance
        return self.cleaned_data["time_zone"] or current.time_zone

    def _words(self, name: str) -> str:
        words = [w.strip().upper() for w in self.cleaned_data[name].split(",") if w.strip()]
        if not words:
            raise ValidationError("Give at least one word.")
        if any(" " in w for w in words):
            raise ValidationError("Each word is a single word; separate them with commas.")
        return ",".join(dict.fromkeys(words))

    def clean_stop_words(self) -> str:
        return self._words("stop_words")

    def clean_start_words(self) -> str:
        return self._words("start_words")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        stop = set((data.get("stop_words") or "").split(","))
        start = set((data.get("start_words") or "").split(","))
        if (stop & start) - {""}:
            self.add_error("start_words", "A word cannot both stop and start messages.")
        return data
