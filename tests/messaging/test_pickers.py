"""Pickers: countries by name with the tenant's default first, a curated time-zone list grouped
by region with offsets, values stored before still accepted, unknown values refused."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope, scopes_disabled

from messaging.models import MessagingSettings
from messaging.pickers import country_choices, country_label, zone_choices, zone_label
from messaging.services import settings_for
from messaging.time_zones import CANONICAL_ZONES
from tests.conftest import World, client_for

WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, tzinfo=UTC)


def test_country_choices_by_name_with_the_default_first() -> None:
    choices = country_choices(first="no")
    assert choices[0] == ("NO", "Norway (+47)")
    rest = [label for _, label in choices[1:]]
    assert rest[:2] == ["Afghanistan (+93)", "Åland Islands (+358)"]  # accents sort with A
    assert ("SE", "Sweden (+46)") in choices and len(choices) > 240
    assert country_label("XK") == "Kosovo (+383)"
    assert all(code != label for code, label in choices)  # never a bare code


def test_zone_choices_are_curated_grouped_and_labelled() -> None:
    groups = dict(zone_choices(now=WINTER))
    assert list(groups)[:3] == ["Universal", "Africa", "America"]
    europe = groups["Europe"]
    assert ("Europe/Stockholm", "(UTC+01:00) Stockholm") in europe
    assert ("America/Argentina/Buenos_Aires", "(UTC-03:00) Buenos Aires") in groups["America"]
    values = {v for group in groups.values() for v, _ in group}
    assert "US/Eastern" not in values and "Asia/Calcutta" not in values
    assert not any(v.startswith("Etc/") for v in values)
    assert values == {*CANONICAL_ZONES, "UTC"}
    # Each group runs from west to east.
    offsets = [label[4:10] for _, label in europe]
    assert offsets[0] == "+00:00" and offsets[-1] == "+04:00"
    assert zone_label("Europe/Stockholm", now=SUMMER) == "(UTC+02:00) Stockholm"
    assert zone_label("Asia/Kolkata", now=SUMMER) == "(UTC+05:30) Kolkata"
    # A zone stored before the list is kept as a choice; an unknown one is not added.
    assert zone_choices(current="US/Eastern")[0] == (
        "Your current setting",
        [("US/Eastern", "US/Eastern (kept as it is)")],
    )
    assert zone_choices(current="Mars/Olympus")[0][0] == "Universal"


def _settings_form(**fields: str) -> dict[str, str]:
    return {"default_country": "SE", "stop_words": "STOP", "start_words": "START", **fields}


def test_settings_page_pickers_validate(world: World) -> None:
    owner = client_for(world.owner_a)
    page = owner.get("/t/acme/messages/settings/").content.decode()
    assert '<option value="SE" selected>Sweden (+46)</option>' in page
    assert '<optgroup label="Europe">' in page and 'data-filter="Type to find a city"' in page
    assert "Stockholm</option>" in page and "/static/js/select-filter.js" in page

    refused = owner.post(
        "/t/acme/messages/settings/",
        _settings_form(default_country="QQ", time_zone="US/Eastern"),
    )
    html = refused.content.decode()
    assert refused.status_code == 400
    assert "Choose a country from the list." in html
    assert "Choose a time zone from the list." in html  # an alias is not offered

    saved = owner.post(
        "/t/acme/messages/settings/", _settings_form(default_country="no", time_zone="Asia/Tokyo")
    )
    assert saved.status_code == 302
    with scopes_disabled():
        row = MessagingSettings.objects.get(tenant=world.tenant_a)
    assert (row.default_country, row.time_zone) == ("NO", "Asia/Tokyo")


def _settings_set(world: World, **fields: str) -> None:
    with scope(tenant=world.tenant_a.pk):
        row = settings_for(world.tenant_a)
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()


def test_a_zone_stored_before_the_list_is_still_accepted(world: World) -> None:
    _settings_set(world, time_zone="US/Eastern")
    owner = client_for(world.owner_a)
    page = owner.get("/t/acme/messages/settings/").content.decode()
    assert '<option value="US/Eastern" selected>US/Eastern (kept as it is)</option>' in page
    kept = owner.post("/t/acme/messages/settings/", _settings_form(time_zone="US/Eastern"))
    assert kept.status_code == 302
    # Left out of the form, the zone stays as it is.
    assert owner.post("/t/acme/messages/settings/", _settings_form()).status_code == 302
    with scopes_disabled():
        assert MessagingSettings.objects.get(tenant=world.tenant_a).time_zone == "US/Eastern"


def test_import_country_picker(world: World) -> None:
    _settings_set(world, default_country="FI")
    client = client_for(world.member_a)
    upload = SimpleUploadedFile("people.csv", b"Mobile;Name\n0401234567;Ann\n")
    response = client.post("/t/acme/contacts/import/", {"file": upload})
    map_url = response["Location"]
    page = client.get(map_url).content.decode()
    select = page[page.index('name="default_country"') :]
    first = select.index("<option")
    assert select[first:].startswith('<option value="FI" selected>Finland (+358)</option>')
    assert 'data-filter="Type to find a country"' in page
    refused = client.post(map_url, {"col_0": "phone", "col_1": "name", "default_country": "ZZ"})
    assert refused.status_code == 400
    assert "Choose a country from the list." in refused.content.decode()


def test_campaign_time_zone_picker(world: World) -> None:
    client = client_for(world.member_a)
    page = client.get("/t/acme/campaigns/new/").content.decode()
    assert '<option value="Europe/Stockholm" selected>' in page
    assert "US/Eastern" not in page and "Etc/GMT" not in page
    refused = client.post("/t/acme/campaigns/new/", {"time_zone": "Etc/GMT+3", "name": "x"})
    assert "Choose a time zone from the list." in refused.content.decode()
