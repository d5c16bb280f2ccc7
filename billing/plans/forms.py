"""Staff forms for rate plans: the plan, a new version, a version's settings and price rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.forms import MoneyField
from billing.plans.models import PriceKind, RatePlan, RatePlanVersion
from billing.plans.services import PriceRow
from numbers.models import Category


class PriceField(MoneyField):
    """A unit price to 1/10000 (an SMS part costs fractions of an öre)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("max_value", Decimal("100000"))
        super().__init__(**kwargs)
        self.error_messages["min_value"] = "A price cannot be negative."
        self.error_messages["max_value"] = "That is more than 100,000 per unit: check the number."

    def prepare_value(self, value: object) -> object:
        if isinstance(value, int):
            return (Decimal(value) / 10_000).quantize(Decimal("0.0001")).normalize()
        return value


class PlanForm(forms.ModelForm):
    class Meta:
        model = RatePlan
        fields = ["name", "description", "currency"]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationError("Use a three-letter currency code, e.g. SEK.")
        return currency


class PlanEditForm(forms.ModelForm):
    class Meta:
        model = RatePlan
        fields = ["name", "description"]


class VersionAddForm(forms.Form):
    effective_from = forms.DateField(
        label="Takes effect on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today or later. It starts as a copy of the prices in force on that day.",
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_effective_from(self) -> date:
        day: date = self.cleaned_data["effective_from"]
        if day < self.today:
            raise ValidationError(
                "A version cannot start in the past: it would reprice billed usage."
            )
        return day


class VersionForm(forms.ModelForm):
    """A version's own settings; markup entered as a percentage, stored in basis points."""

    markup_percent = forms.DecimalField(
        label="Markup over provider cost for anything unlisted (%)",
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("10000"),
        decimal_places=2,
        help_text="Empty: unlisted events are charged at provider cost.",
    )
    call_connection_fee = PriceField(label="Call connection fee")
    sms_in_price = PriceField(label="Inbound SMS price")
    mms_in_price = PriceField(label="Inbound MMS price")
    field_order = ["markup_percent"]

    class Meta:
        model = RatePlanVersion
        fields = [
            "call_first_seconds",
            "call_next_seconds",
            "call_connection_fee",
            "sms_in_price",
            "mms_in_price",
            "note",
        ]
        labels = {
            "call_first_seconds": "Call: first block (seconds)",
            "call_next_seconds": "Call: then blocks of (seconds)",
        }
        help_texts = {"call_next_seconds": "60/60 bills whole minutes; 60/1 per second after."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.markup_bp is not None:
            self.initial["markup_percent"] = Decimal(self.instance.markup_bp) / 100

    def version_fields(self) -> dict[str, object]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "markup_percent"}
        percent = self.cleaned_data.get("markup_percent")
        data["markup_bp"] = None if percent is None else int(percent * 100)
        return data


KIND_CHOICES = [("", "Price for…"), *PriceKind.choices]
CATEGORY_CHOICES = [("", "Any category"), *Category.choices]


class PriceRowForm(forms.Form):
    kind = forms.ChoiceField(
        choices=KIND_CHOICES, required=False, widget=forms.Select(attrs={"aria-label": "For"})
    )
    country = forms.CharField(
        required=False,
        widget=forms.TextInput(
            attrs={"aria-label": "Country (empty: any)", "placeholder": "Any country"}
        ),
    )
    category = forms.ChoiceField(
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.Select(attrs={"aria-label": "Number category"}),
    )
    price = PriceField(
        required=False,
        widget=forms.NumberInput(attrs={"aria-label": "Price", "placeholder": "Price"}),
    )

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().lower()
        if country and (len(country) != 2 or not country.isalpha()):
            raise ValidationError("Use the two-letter country code, e.g. SE, or leave it empty.")
        return country

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, price = data.get("kind"), data.get("price")
        if not kind and price is None and not data.get("country"):
            return data  # an empty row
        if not kind:
            self.add_error("kind", "Choose what this price is for.")
        if price is None:
            self.add_error("price", "Enter a price (0 for free).")
        if data.get("category") and kind != PriceKind.NUMBER_MONTH:
            self.add_error("category", "A category applies to number prices only.")
        return data

    def row(self) -> PriceRow | None:
        data = self.cleaned_data
        if not data.get("kind"):
            return None
        return PriceRow(
            kind=data["kind"],
            country=data.get("country", ""),
            category=data.get("category", ""),
            price=int(data["price"]),
        )


class BasePriceFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(form.errors for form in self.forms):
            return
        seen: set[tuple[str, str, str]] = set()
        for form in self.forms:
            row = form.row()
            if row is None:
                continue
            key = (row.kind, row.country, row.category)
            if key in seen:
                where = row.country.upper() or "any country"
                raise ValidationError(
                    f"Two rows price {PriceKind(row.kind).label} for {where}"
                    f"{' (' + row.category + ')' if row.category else ''}: keep one."
                )
            seen.add(key)

    def rows(self) -> list[PriceRow]:
        return [row for form in self.forms if (row := form.row()) is not None]


PriceFormSet = forms.formset_factory(
    PriceRowForm, formset=BasePriceFormSet, extra=6, max_num=400, validate_max=True
)


class AssignPlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=RatePlan.objects.all(), label="Rate plan")
