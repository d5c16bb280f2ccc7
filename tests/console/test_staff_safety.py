"""Staff and upload safety: an existing user's login is never handed to staff, a POST never
goes back to the Referer, and oversized uploads are refused before their body is read."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser

from accounts.models import AuditEvent, Membership, Tenant
from calls.forms import GREETING_MAX_BYTES
from core.uploads import FORM_ALLOWANCE
from messaging.contacts.imports import MAX_UPLOAD_BYTES
from numbers import infobip_services
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _create(client, email: str):
    return client.post(
        "/staff/tenants/new/", {"name": "Cafe Nord", "usage_limit": "250.00", "owner_email": email}
    )


# --- (a) a tenant created for an existing user's email ----------------------------------------


def test_existing_user_gets_no_set_password_link_shown_to_staff(world: World, elks) -> None:
    staff = client_for(world.staff)
    owner = world.owner_b  # owns Bravo, has a password
    response = _create(staff, "Owner@Bravo.example")
    assert response.status_code == 302
    tenant = Tenant.objects.get(name="Cafe Nord")
    assert Membership.objects.get(tenant=tenant).user == owner

    page = staff.get(response.url).content.decode()
    assert "Set-password link" not in page and "/accounts/set-password/" not in page
    assert "already had an account and was added as owner" in page
    assert "sign in with their own password" in page
    assert "set_password_link" not in staff.session

    owner.refresh_from_db()
    assert owner.check_password("correct horse battery")
    # They are told, without a link that would let anyone reset their login.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner.email]
    assert "/accounts/set-password/" not in mail.outbox[0].body
    event = AuditEvent.objects.get(tenant=tenant, action="tenant.created")
    assert event.detail["owner_existing"] is True


def test_existing_user_without_a_password_gets_the_link_by_email_only(world: World, elks) -> None:
    world.member_a.set_unusable_password()
    world.member_a.save()
    staff = client_for(world.staff)
    response = _create(staff, world.member_a.email)
    page = staff.get(response.url).content.decode()
    assert "/accounts/set-password/" not in page
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [world.member_a.email]
    assert "/accounts/set-password/" in mail.outbox[0].body


def test_a_new_owner_still_gets_the_link_shown_once(world: World, elks) -> None:
    staff = client_for(world.staff)
    response = _create(staff, "boss@cafe.example")
    page = staff.get(response.url).content.decode()
    assert "Set-password link for boss@cafe.example" in page
    event = AuditEvent.objects.get(action="tenant.created")
    assert event.detail["owner_existing"] is False


# --- (b) no redirect to the Referer -------------------------------------------------------------


@pytest.fixture
def purchase_fails(monkeypatch):
    def refuse(**kwargs):
        raise infobip_services.InfobipProblem("Infobip says no.")

    monkeypatch.setattr(infobip_services, "infobip_purchase", refuse)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "/staff/infobip/"),
        ({"next": "/staff/infobip/?country=SE&page=2"}, "/staff/infobip/?country=SE&page=2"),
        ({"next": "https://evil.example/staff/infobip/"}, "/staff/infobip/"),
        ({"next": "//evil.example/"}, "/staff/infobip/"),
        ({"next": "javascript:alert(1)"}, "/staff/infobip/"),
    ],
)
def test_a_failed_purchase_ignores_the_referer(
    world: World, purchase_fails, data, expected
) -> None:
    response = client_for(world.staff).post(
        "/staff/infobip/purchase/",
        {"number_key": "k", "number": "46700000001", **data},
        HTTP_REFERER="https://evil.example/phish",
    )
    assert response.status_code == 302
    assert response.url == expected


# --- (c) upload limits, checked before the body is read ----------------------------------------


@pytest.fixture
def body_unread(monkeypatch):
    """Fail the test if Django starts parsing the multipart body."""

    def parse(self):
        raise AssertionError("the upload body was read")

    monkeypatch.setattr(MultiPartParser, "parse", parse)


def test_an_oversized_greeting_is_refused_unread(world: World, body_unread, media) -> None:
    big = WAV + b"\x00" * (GREETING_MAX_BYTES + FORM_ALLOWANCE)
    response = client_for(world.owner_a).post(
        "/t/acme/calls/greetings/",
        {"name": "Big", "file": SimpleUploadedFile("big.wav", big, "audio/wav")},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "That upload is too large" in page and "at most 2.0\xa0MB" in page


def test_an_oversized_contact_import_is_refused_by_its_content_length(
    world: World, body_unread
) -> None:
    # The header alone decides: a client announcing 50 MB is stopped before sending them.
    response = client_for(world.owner_a).post(
        "/t/acme/contacts/import/",
        {"file": SimpleUploadedFile("c.csv", b"phone\n+46700000001\n", "text/csv")},
        CONTENT_LENGTH=str(MAX_UPLOAD_BYTES + FORM_ALLOWANCE + 1),
    )
    assert response.status_code == 413
    assert "at most 20.0\xa0MB" in response.content.decode()


def test_an_oversized_mms_image_is_refused_unread(world: World, body_unread, settings) -> None:
    settings.MMS_MAX_BYTES = 10_000
    response = client_for(world.owner_a).post(
        "/t/acme/messages/new/",
        {"image": SimpleUploadedFile("i.png", b"\x89PNG" + b"\x00" * (FORM_ALLOWANCE + 20_000))},
    )
    assert response.status_code == 413


def test_pages_without_uploads_take_no_large_bodies(world: World, body_unread, settings) -> None:
    settings.REQUEST_MAX_BYTES = 100_000
    response = client_for(world.staff).post(
        "/staff/tenants/new/",
        {"name": "x", "file": SimpleUploadedFile("x.bin", b"\x00" * 200_000)},
    )
    assert response.status_code == 413
    assert "does not take uploads of that size" in response.content.decode()


def test_a_file_just_over_its_limit_gets_the_form_error(world: World, media) -> None:
    """Within the request allowance the form explains the file limit next to the field."""
    big = WAV + b"\x00" * GREETING_MAX_BYTES
    response = client_for(world.owner_a).post(
        "/t/acme/calls/greetings/",
        {"name": "Big", "file": SimpleUploadedFile("big.wav", big, "audio/wav")},
    )
    assert response.status_code == 400
    assert "The file is larger than 2 MB." in response.content.decode()


def test_small_uploads_and_gets_pass(world: World, media) -> None:
    client = client_for(world.owner_a)
    assert client.get("/t/acme/calls/greetings/").status_code == 200
    response = client.post(
        "/t/acme/calls/greetings/",
        {"name": "Hi", "file": SimpleUploadedFile("hi.wav", WAV, "audio/wav")},
    )
    assert response.status_code == 302
