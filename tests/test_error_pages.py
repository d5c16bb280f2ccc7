"""The app's own error pages, in the demo too: never Django's debug page listing the URLs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.views.defaults import bad_request, server_error

from accounts.views import not_found, permission_denied

ROOT = Path(__file__).resolve().parent.parent
# What Django's technical 404 page says (it lists every URL pattern, hook routes included).
DEBUG_PAGE_MARKERS = ["URLconf", "hooks/elks/", "Django tried these URL patterns", "DEBUG = True"]


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


# For the 500 test: the real URLs plus one view that fails.
urlpatterns = [path("boom/", _boom)]


def _demo_responses(tmp_path: Path) -> dict[str, dict[str, object]]:
    """Requests against config.settings.demo, in a fresh process (settings load once)."""
    script = """
import json
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1:8000")
out = {}
for name, url, host in [
    ("missing", "/no-such-page/", "127.0.0.1:8000"),
    ("css", "/static/css/app.css", "127.0.0.1:8000"),
    ("pico", "/static/vendor/pico/pico.min.css", "127.0.0.1:8000"),
    ("other_host", "/", "evil.example"),
]:
    response = client.get(url, HTTP_HOST=host)
    body = b"".join(response) if response.streaming else response.content
    out[name] = {"status": response.status_code, "body": body.decode("utf-8", "replace")}
print(json.dumps(out))
"""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR"}
    environ = {k: v for k, v in os.environ.items() if k in keep}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings.demo", DEMO_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_demo_shows_the_apps_404_and_serves_static_files_with_debug_off(
    tmp_path: Path,
) -> None:
    responses = _demo_responses(tmp_path)

    missing = responses["missing"]
    assert missing["status"] == 404
    assert "Page not found" in missing["body"]
    assert "Switchboard" in missing["body"]
    for marker in DEBUG_PAGE_MARKERS:
        assert marker not in missing["body"]
    # DEBUG is off, yet the CSS the pages link to is served (WhiteNoise, from the finders).
    assert responses["css"]["status"] == 200 and ".topbar" in responses["css"]["body"]
    assert responses["pico"]["status"] == 200
    # A host the demo was not started for: the app's 400 page.
    assert responses["other_host"]["status"] == 400
    assert "Bad request" in responses["other_host"]["body"]


@pytest.mark.django_db
def test_a_missing_page_is_the_apps_404_without_url_patterns(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    body = response.content.decode()
    assert "Page not found" in body and 'href="/static/css/app.css"' in body
    for marker in DEBUG_PAGE_MARKERS:
        assert marker not in body


@pytest.mark.django_db
def test_404_and_403_render_in_the_layout() -> None:
    request = RequestFactory().get("/x/")
    request.user = AnonymousUser()
    page = not_found(request, Exception("nope")).content.decode()
    assert "Page not found" in page and "Back to start" in page
    denied = permission_denied(request, PermissionDenied("Owners only."))
    assert denied.status_code == 403
    assert "Owners only." in denied.content.decode() and "Switchboard" in denied.content.decode()


def test_400_renders_without_middleware_state() -> None:
    """A disallowed host fails before sessions and auth: the page needs neither."""
    request = RequestFactory().get("/")
    response = bad_request(request, SuspiciousOperation("bad"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Bad request" in body and "css/app.css" in body


@pytest.mark.django_db
def test_a_disallowed_host_gets_the_apps_400(client: Client) -> None:
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_500_is_standalone_and_survives_broken_static_storage(settings) -> None:
    # A manifest storage without a manifest: {% static %} would raise; the 500 page uses none.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = "/nonexistent-static-root"
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert 'href="/static/css/app.css"' in body and "Switchboard" in body


@pytest.mark.django_db
@pytest.mark.urls("tests.test_error_pages")
def test_an_unhandled_error_shows_the_apps_500() -> None:
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body and "boom" not in body


@pytest.mark.django_db
def test_a_failed_csrf_check_shows_the_apps_page() -> None:
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "The form could not be sent" in body and "Switchboard" in body
