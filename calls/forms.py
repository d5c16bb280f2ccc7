"""Forms of the Calls pages: click-to-call, greeting upload, call settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from calls.models import CallSettings, Greeting
from numbers.models import PhoneNumber

GREETING_MAX_BYTES = 2 * 1024 * 1024


class DialForm(forms.Form):
    number = forms.ModelChoiceField(
        queryset=PhoneNumber.objects.none(),
        label="Call from",
        empty_label=None,
        help_text="The customer sees this number.",
    )
    to = forms.CharField(
        max_length=40,
        label="Customer's number",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Scoped to the tenant by the TenantOwned manager.
        self.fields["number"].queryset = PhoneNumber.objects.filter(
            status=PhoneNumber.Status.ACTIVE, has_voice=True
        ).order_by("number")


def audio_type(head: bytes) -> str | None:
    """The content type of a WAV, MP3 or OGG file, judged by its first bytes (not its name)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head[:4] == b"OggS":
        return "audio/ogg"
    return None


EXTENSIONS = {"audio/wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg"}


class GreetingForm(forms.ModelForm):
    file = forms.FileField(
        label="Audio file",
        help_text="WAV, MP3 or OGG, at most 2 MB. 46elks plays it to callers before the beep.",
        widget=forms.ClearableFileInput(attrs={"accept": "audio/wav,audio/mpeg,audio/ogg"}),
    )

    class Meta:
        model = Greeting
        fields = ["name", "file"]

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > GREETING_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB.")
        upload.seek(0)
        head = upload.read(12)
        upload.seek(0)
        content_type = audio_type(head)
        if content_type is None:
            raise forms.ValidationError("Upload a WAV, MP3 or OGG audio file.")
        upload.name = f"greeting.{EXTENSIONS[content_type]}"
        self.instance.content_type = content_type
        self.instance.size = upload.size or 0
        return upload


class CallSettingsForm(forms.ModelForm):
    recording_retention_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        label="Keep recording audio for (days)",
        help_text="Older audio is deleted; the call and its details stay in the log.",
    )

    class Meta:
        model = CallSettings
        fields = ["recording_retention_days"]
