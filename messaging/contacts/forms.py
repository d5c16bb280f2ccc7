"""Forms for the contact pages: a contact, its custom fields, lists, and the import steps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Tenant
from core.phone import to_e164
from messaging.contacts.imports import (
    ALLOWED_EXTENSIONS,
    FIELD_PREFIX,
    FIRST_NAME,
    LAST_NAME,
    MAX_UPLOAD_BYTES,
    NAME,
    PHONE,
    ImportFileError,
    mapping_check,
)
from messaging.contacts.models import Contact, ContactImport, ContactList
from messaging.pickers import CountryField, country_choices
from messaging.services import settings_for

FIELD_KEY_MAX = 50


class ContactForm(forms.Form):
    phone = forms.CharField(label="Phone number", max_length=30)
    name = forms.CharField(max_length=150, required=False)
    lists = forms.ModelMultipleChoiceField(
        queryset=ContactList.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Lists",
    )

    def __init__(
        self, *args: Any, tenant: Tenant, instance: Contact | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.instance = instance
        self.fields["lists"].queryset = ContactList.objects.order_by("name")
        self.fields[
            "phone"
        ].help_text = (
            f"International (+46…) or national format for {settings_for(tenant).default_country}."
        )

    def clean_phone(self) -> str:
        phone = to_e164(
            self.cleaned_data["phone"], region=settings_for(self.tenant).default_country
        )
        others = Contact.objects.filter(phone=phone)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"A contact with the number {phone} already exists.")
        return phone


class FieldRowForm(forms.Form):
    key = forms.CharField(max_length=FIELD_KEY_MAX, required=False, label="Field")
    value = forms.CharField(max_length=500, required=False, label="Value")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("value") and not data.get("key"):
            raise ValidationError("Name this field.")
        return data


class BaseFieldRowFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        keys: set[str] = set()
        for form in self.forms:
            key = (form.cleaned_data.get("key") or "").strip()
            if not key:
                continue
            if key in keys:
                raise ValidationError(f"The field “{key}” appears twice.")
            if key in ("phone", "name", "first_name", "last_name"):
                raise ValidationError(f"“{key}” is built in; choose another field name.")
            keys.add(key)

    def as_dict(self) -> dict[str, str]:
        return {
            form.cleaned_data["key"].strip(): form.cleaned_data.get("value", "")
            for form in self.forms
            if (form.cleaned_data.get("key") or "").strip()
        }


FieldRowFormSet = forms.formset_factory(
    FieldRowForm, formset=BaseFieldRowFormSet, extra=2, max_num=50, validate_max=True
)


def field_rows(fields: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in sorted(fields.items())]


class ContactListForm(forms.Form):
    name = forms.CharField(max_length=100, label="List name")

    def __init__(self, *args: Any, instance: ContactList | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = ContactList.objects.filter(name=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"There is already a list called “{name}”.")
        return name


class ListMembersForm(forms.Form):
    """Add or remove the ticked contacts to or from a list."""

    contact_list = forms.ModelChoiceField(queryset=ContactList.objects.none(), label="List")
    contacts = forms.ModelMultipleChoiceField(queryset=Contact.objects.none())
    action = forms.ChoiceField(choices=[("add", "Add to list"), ("remove", "Remove from list")])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_list"].queryset = ContactList.objects.all()
        self.fields["contacts"].queryset = Contact.objects.all()
        self.fields["contacts"].error_messages["required"] = "Tick at least one contact."


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"A .csv or .txt file up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, with a header "
            "row. Commas, semicolons or tabs; UTF-8 or Windows encoding."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(
            (*ALLOWED_EXTENSIONS, "text/csv", "text/plain")
        )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_EXTENSIONS):
            raise ValidationError("Upload a .csv or .txt file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
            )
        return upload


COLUMN_CHOICES = [
    ("", "Ignore"),
    (PHONE, "Phone number"),
    (NAME, "Full name"),
    (FIRST_NAME, "First name"),
    (LAST_NAME, "Last name"),
    ("field", "Custom field…"),
]
NEW_LIST = "new"


def _guess(header: str) -> tuple[str, str]:
    """A first guess of a column's target from its header: (choice, custom key)."""
    h = header.strip().lower().replace("-", " ").replace("_", " ")
    if h in ("phone", "mobile", "phone number", "number", "telefon", "mobil", "msisdn", "tel"):
        return PHONE, ""
    if h in ("name", "full name", "namn"):
        return NAME, ""
    if h in ("first name", "firstname", "given name", "förnamn", "fornamn"):
        return FIRST_NAME, ""
    if h in ("last name", "lastname", "surname", "family name", "efternamn"):
        return LAST_NAME, ""
    return "field", header.strip()[:FIELD_KEY_MAX]


class ImportMapForm(forms.Form):
    """One target per column; a list to add the contacts to; the default country."""

    target_list = forms.ChoiceField(label="Add the contacts to", required=False)
    new_list_name = forms.CharField(
        max_length=100, required=False, label="New list name", help_text="For a new list."
    )
    default_country = CountryField(
        label="Country of numbers in national format",
        help_text="Numbers starting with + are read as they are.",
        error_messages={"invalid_choice": "Choose a country from the list."},
    )

    def __init__(self, *args: Any, contact_import: ContactImport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contact_import = contact_import
        self.columns: list[tuple[int, str, forms.BoundField, forms.BoundField]] = []
        for i, header in enumerate(contact_import.headers):
            choice, key = _guess(header)
            self.fields[f"col_{i}"] = forms.ChoiceField(
                choices=COLUMN_CHOICES, required=False, initial=choice, label=header or f"#{i + 1}"
            )
            self.fields[f"key_{i}"] = forms.CharField(
                max_length=FIELD_KEY_MAX, required=False, initial=key, label="Field name"
            )
        lists = [(str(pk), name) for pk, name in ContactList.objects.values_list("pk", "name")]
        self.fields["target_list"].choices = [
            ("", "No list"),
            (NEW_LIST, "A new list…"),
            *lists,
        ]
        default = settings_for(contact_import.tenant).default_country
        country = self.fields["default_country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = country_choices(first=default)
        country.initial = default
        country.widget.attrs["data-filter"] = "Type to find a country"

    def column_fields(
        self, rows: list[list[str]]
    ) -> list[tuple[str, forms.BoundField, forms.BoundField, list[str]]]:
        """(header, target field, custom key field, the column's first values) per column."""
        return [
            (header, self[f"col_{i}"], self[f"key_{i}"], [r[i] if i < len(r) else "" for r in rows])
            for i, header in enumerate(self.contact_import.headers)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        mapping: dict[str, str] = {}
        for i in range(len(self.contact_import.headers)):
            choice = data.get(f"col_{i}") or ""
            if not choice:
                continue
            if choice == "field":
                key = (data.get(f"key_{i}") or "").strip()
                if not key:
                    self.add_error(f"key_{i}", "Name the custom field.")
                    continue
                mapping[str(i)] = FIELD_PREFIX + key
            else:
                mapping[str(i)] = choice
        if not self.errors:
            try:
                mapping_check(mapping, len(self.contact_import.headers))
            except ImportFileError as exc:
                raise ValidationError(str(exc)) from exc
        data["mapping"] = mapping
        target = data.get("target_list") or ""
        if target == NEW_LIST and not (data.get("new_list_name") or "").strip():
            self.add_error("new_list_name", "Name the new list.")
        elif target and target != NEW_LIST:
            found = ContactList.objects.filter(pk=target).first() if target.isdigit() else None
            if found is None:
                self.add_error("target_list", "Choose one of your lists.")
            data["list_obj"] = found
        return data
