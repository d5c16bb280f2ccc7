"""The campaign compose form: parses what the user typed; sending rules live in campaigns.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Tenant
from messaging.campaigns.models import Campaign
from messaging.campaigns.placeholders import template_known_fields
from messaging.campaigns.services import CampaignError, template_check
from messaging.contacts.models import ContactList
from messaging.models import Message
from messaging.pickers import zone_choices
from messaging.senders.selectors import sender_choices
from messaging.services import SendError, sender_resolve, settings_for


class CampaignForm(forms.ModelForm):
    sender = forms.ChoiceField(
        label="From",
        help_text="Your numbers, and the sender names approved for this account. Recipients "
        "cannot reply to a name.",
        error_messages={
            "required": "Choose whom to send from.",
            "invalid_choice": "Send from one of your numbers or approved sender names.",
        },
    )
    lists = forms.ModelMultipleChoiceField(
        queryset=ContactList.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Send to",
        error_messages={"required": "Choose at least one contact list."},
    )
    send_date = forms.DateField(
        required=False,
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    send_time = forms.TimeField(
        required=False,
        label="Time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )
    rate = forms.IntegerField(min_value=1, label="Send rate (messages per second)")

    class Meta:
        model = Campaign
        fields = ["name", "template", "quiet_start", "quiet_end", "quiet_zone", "rate"]
        labels = {
            "template": "Message",
            "quiet_start": "Quiet from",
            "quiet_end": "Quiet until",
            "quiet_zone": "Quiet hours in",
        }
        widgets = {
            "template": forms.Textarea(attrs={"rows": 5}),
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_zone": forms.RadioSelect,
        }

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        cap = settings.CAMPAIGN_PROVIDER_RATE
        self.fields["sender"].choices = sender_choices(tenant, mms=False)
        self.fields["lists"].queryset = ContactList.objects.order_by("name")
        self.fields["template"].strip = False
        known = ", ".join(f"{{{f}}}" for f in template_known_fields(tenant))
        self.fields["template"].help_text = (
            f"Placeholders from contact fields: {known}. A fallback after a bar is used when "
            "the field is empty: {first_name|there}."
        )
        rate = self.fields["rate"]
        rate.validators.append(_max_rate(cap))
        rate.widget.attrs["max"] = cap
        rate.help_text = (
            f"Capped at {cap} per second: the platform's limit towards 46elks, shared by every "
            "campaign."
        )
        self.fields["quiet_start"].help_text = "Optional. Sending pauses and resumes by itself."
        self.fields["quiet_end"].help_text = "E.g. from 21:00 until 08:00."
        instance: Campaign = self.instance
        zone = instance.time_zone if instance.pk else settings_for(tenant).time_zone
        self.initial.setdefault("time_zone", zone)
        zones = self.fields["time_zone"]
        assert isinstance(zones, forms.ChoiceField)
        zones.choices = zone_choices(current=zone)
        zones.widget.attrs["data-filter"] = "Type to find a city"
        if instance.pk:
            self.initial.setdefault("sender", instance.sender)
            self.initial.setdefault("lists", list(instance.lists.values_list("pk", flat=True)))
            if instance.scheduled_at:
                local = instance.scheduled_at.astimezone(_zone(instance.time_zone))
                self.initial.setdefault("send_date", local.date())
                self.initial.setdefault("send_time", local.time().replace(second=0))
        self.initial["rate"] = min(self.initial.get("rate") or instance.rate, cap)

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("Choose a time zone from the list.") from exc
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("sender"):
            try:
                data["sender"] = sender_resolve(
                    tenant=self.tenant, value=data["sender"], kind=Message.Kind.SMS
                ).ours
            except SendError as exc:
                self.add_error("sender", str(exc))
        template = data.get("template") or ""
        if not template.strip():
            self.add_error("template", "Write a message.")
        else:
            try:
                template_check(tenant=self.tenant, template=template)
            except CampaignError as exc:
                self.add_error("template", str(exc))
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            self.add_error("quiet_end", "Give both ends of the quiet hours, or neither.")
        elif data.get("quiet_start") is not None and data["quiet_start"] == data["quiet_end"]:
            self.add_error("quiet_end", "The quiet hours must not start and end at the same time.")
        data["scheduled_at"] = self._scheduled_at(data)
        return data

    def _scheduled_at(self, data: dict[str, Any]) -> datetime | None:
        day, at = data.get("send_date"), data.get("send_time")
        if day is None and at is None:
            return None  # send when launched
        if day is None or at is None:
            self.add_error("send_time", "Give both a date and a time, or leave both empty.")
            return None
        zone_name = data.get("time_zone")
        if not zone_name:
            return None
        local = datetime.combine(day, at).replace(tzinfo=_zone(zone_name))
        # A wall-clock time that does not exist (the spring DST gap) round-trips to another.
        utc = local.astimezone(ZoneInfo("UTC"))
        if utc.astimezone(_zone(zone_name)).replace(tzinfo=None) != local.replace(tzinfo=None):
            self.add_error("send_time", "That time does not exist on that day (clock change).")
            return None
        if utc <= timezone.now():
            self.add_error("send_date", "The time is in the past: leave it empty to send at once.")
            return None
        return utc

    def save(self, commit: bool = True) -> Campaign:
        campaign: Campaign = super().save(commit=False)
        data = self.cleaned_data
        campaign.tenant = self.tenant
        campaign.sender = data["sender"]
        campaign.scheduled_at = data["scheduled_at"]
        campaign.time_zone = data["time_zone"]
        campaign.updated = timezone.now()
        if commit:
            campaign.save()
            campaign.lists.set(data["lists"])
        return campaign


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _max_rate(cap: int) -> Callable[[int | None], None]:
    def check(value: int | None) -> None:
        if value is not None and value > cap:
            raise ValidationError(f"At most {cap} messages per second (the platform's limit).")

    return check
