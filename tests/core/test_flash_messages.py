"""Flash notes: success and info fade out (they describe a moment); warnings and errors stay."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template.loader import render_to_string
from django.test import RequestFactory


def _render(level: int, text: str) -> str:
    request = RequestFactory().get("/")
    request.session = {}  # type: ignore[assignment]  # a dict stands in for the session
    storage = FallbackStorage(request)
    request._messages = storage
    messages.add_message(request, level, text)
    return render_to_string("includes/messages.html", {"messages": storage})


def test_success_and_info_fade_warnings_and_errors_stay_and_alert() -> None:
    success = _render(messages.SUCCESS, "Sending to 5 recipients.")
    assert 'class="flash flash-success flash-transient" role="status"' in success
    assert "flash-transient" in _render(messages.INFO, "Saved.")
    warning = _render(messages.WARNING, "Will be retried.")
    assert "flash-transient" not in warning and 'role="alert"' in warning
    error = _render(messages.ERROR, "Failed.")
    assert "flash-transient" not in error and 'role="alert"' in error
