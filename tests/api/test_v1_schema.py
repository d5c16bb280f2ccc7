"""Schema-driven fuzzing of /api/v1/ with schemathesis: every operation in the OpenAPI
description the app serves (whatever routers exist when the test runs), with valid and
invalid inputs, must answer without a server error and with a body its schema allows.

The schema is loaded from the app itself (WSGI, in-process: the test database is seen) and
each operation runs a bounded number of examples, so the whole sweep takes seconds. The
tenant has a number, a message, a call and a recording, so that the examples with their ids
reach the success answers too, not only the 404s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.services import settings_change
from calls.models import Call, Recording
from messaging.models import Message
from numbers.models import PhoneNumber
from tests.api.conftest import Keyed, make_key
from tests.conftest import World

CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = 15
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _operations() -> list[str]:
    from api.v1.api import api

    paths = api.get_openapi_schema()["paths"]
    return sorted(
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """The WSGI app closes the database connection after each request, which would end the
    test's transaction (PostgreSQL); Django's test client keeps it open the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def seeded(world: World, media_root: None) -> Iterator[dict[str, int]]:
    """One row of each kind for tenant A, and ids for the path parameters."""
    tenant = world.tenant_a
    with scopes_disabled():
        number = PhoneNumber.objects.create(
            tenant=tenant,
            number="+46766861475",
            country="se",
            has_sms=True,
            has_mms=True,
            has_voice=True,
            status="active",
        )
        message = Message.objects.create(
            tenant=tenant,
            kind="sms",
            direction="out",
            status="delivered",
            source="api",
            number=number,
            ours=number.number,
            other="+46700000001",
            body="Hej",
            price=4500,
        )
        call = Call.objects.create(
            tenant=tenant,
            direction="in",
            state="success",
            number=number,
            ours=number.number,
            other="+46700000002",
            duration=30,
        )
        recording = Recording(
            tenant=tenant, call=call, callid="c1", elks_id="r1", kind="voicemail", duration=3
        )
        recording.file.save("r1.wav", ContentFile(b"RIFF0000WAVEfmt "), save=False)
        recording.save()
    yield {
        "message_id": message.pk,
        "number_id": number.pk,
        "call_id": call.pk,
        "recording_id": recording.pk,
    }


@pytest.fixture
def fuzz_key(world: World) -> Keyed:
    keyed = make_key(world.tenant_a)
    settings_change(
        tenant=world.tenant_a,
        actor=world.staff,
        key_rate=100_000,
        key_burst=100_000,
        tenant_rate=100_000,
        tenant_burst=100_000,
    )
    return keyed


@pytest.mark.parametrize("label", _operations())
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_within_its_schema(
    label: str,
    mode: GenerationMode,
    seeded: dict[str, int],
    fuzz_key: Keyed,
    in_test_transaction: None,
) -> None:
    method, path = label.split(" ", 1)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
    operation = schema[path][method]
    known = {name: seeded[name] for name in re.findall(r"{(\w+)}", path) if name in seeded}
    strategies = [operation.as_strategy(generation_mode=mode)]
    if known and mode == GenerationMode.POSITIVE:
        # The rows that exist: so the success answers are checked as well as the 404s.
        strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=known))
    headers = {"Authorization": fuzz_key.auth}

    @FUZZ
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_the_sweep_covers_every_router_that_exists() -> None:
    operations = _operations()
    for prefix in ("/messages", "/numbers", "/calls", "/recordings", "/usage"):
        assert any(f" /api/v1{prefix}" in label for label in operations), prefix
