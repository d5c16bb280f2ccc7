"""core.http: the shared error taxonomy, Retry-After, and the pinned POST's failures."""

from __future__ import annotations

import socket

import pytest

from core.http import TransportError, pinned_post, retry_after
from providers.elks.errors import ElksRateLimited, ElksTimeout
from providers.infobip.errors import InfobipServerError


@pytest.mark.parametrize(
    ("value", "seconds"), [("3", 3.0), ("0.5", 0.5), ("-2", 0.0), ("soon", None), ("", None)]
)
def test_retry_after_reads_seconds_only(value: str, seconds: float | None) -> None:
    assert retry_after({"Retry-After": value}) == seconds
    assert retry_after({}) is None


def test_provider_errors_share_the_taxonomy() -> None:
    errors = [
        ElksTimeout("slow", retryable=True, maybe_accepted=True, method="POST", path="/sms"),
        ElksRateLimited("busy", retry_after=2.0),
        InfobipServerError("oops", status=502, retryable=True, maybe_accepted=True),
    ]
    for error in errors:
        assert isinstance(error, TransportError)
        assert error.retryable
    assert [e.maybe_accepted for e in errors] == [True, False, True]
    assert errors[1].status == 429 and str(errors[1]) == "busy"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_pinned_post_was_not_accepted() -> None:
    port = _closed_port()
    with pytest.raises(TransportError) as caught:
        pinned_post(
            url=f"http://hooks.example.com:{port}/in",
            address="127.0.0.1",
            body=b"{}",
            headers={},
            timeout=2.0,
            answer_limit=100,
        )
    assert caught.value.retryable and not caught.value.maybe_accepted
    assert str(caught.value).startswith("NewConnectionError: ")


def test_a_pinned_post_left_unanswered_may_have_been_accepted() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with pytest.raises(TransportError) as caught:
            pinned_post(
                url=f"http://hooks.example.com:{port}/in",
                address="127.0.0.1",
                body=b"{}",
                headers={},
                timeout=0.3,
                answer_limit=100,
            )
    assert caught.value.maybe_accepted
    assert str(caught.value).startswith("ReadTimeoutError: ")
