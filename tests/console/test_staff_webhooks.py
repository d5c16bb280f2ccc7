"""Staff webhooks page: the backlog panel, its HTMX refresh, its cost and who may see it."""

from __future__ import annotations

import pytest

from console import provider_event_views
from providers.selectors import webhook_backlog
from tests.conftest import World, client_for
from tests.factories import WebhookEventFactory
from tests.providers.test_backlog import NOW, backlog_events

pytestmark = pytest.mark.django_db

URL = "/staff/webhooks/"


@pytest.fixture
def frozen_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's figures as of NOW, so that ages and rates are exact."""
    backlog_events()
    monkeypatch.setattr(provider_event_views, "webhook_backlog", lambda: webhook_backlog(now=NOW))


def test_the_page_shows_the_backlog(world: World, frozen_backlog: None) -> None:
    page = client_for(world.staff).get(URL).content.decode()
    assert 'id="backlog"' in page and 'hx-trigger="every 5s"' in page
    assert "<strong>3</strong>" in page and "1 of them waits for a retry" in page
    assert "Oldest waiting</span><strong>3 min 12 s</strong>" in page
    assert "<strong>0.017 events/s</strong>" in page
    assert "1 in the last minute; 2 in 5 minutes (0.0067/s)" in page
    assert 'id="backlog-failed"><span class="muted">Failed</span><strong>2</strong>' in page
    # The status links count what the panel counted; processed rows are not counted at all.
    assert "Pending (3)" in page and "Failed (2)" in page and ">Processed</a>" in page
    assert page.count('id="events"') == 1  # the list is still there (failed, by default)


def test_an_empty_backlog_reads_plainly(world: World) -> None:
    page = client_for(world.staff).get(URL).content.decode()
    assert "<strong>none waiting</strong>" in page and "nothing to process" in page
    assert "<strong>0 events/s</strong>" in page and "nothing needs attention" in page


def test_the_htmx_refresh_returns_only_the_panel(world: World, frozen_backlog: None) -> None:
    response = client_for(world.staff).get(URL, headers={"HX-Request": "true"})
    body = response.content.decode().strip()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert body.startswith('<section id="backlog"') and body.endswith("</section>")
    assert "3 min 12 s" in body
    # The status links come along, so that their counts agree with the panel's.
    assert "Pending (3)" in body and "Failed (2)" in body
    assert "<html" not in body and 'id="events"' not in body and "Staff sections" not in body


def test_the_refresh_keeps_the_status_being_viewed(world: World) -> None:
    htmx = {"HX-Request": "true"}
    page = client_for(world.staff).get(f"{URL}?status=pending").content.decode()
    assert f'hx-get="{URL}?status=pending"' in page
    body = client_for(world.staff).get(f"{URL}?status=pending", headers=htmx).content.decode()
    assert 'href="?status=pending" aria-current="page"' in body
    body = client_for(world.staff).get(f"{URL}?status=nonsense", headers=htmx).content.decode()
    assert 'href="?status=failed" aria-current="page"' in body


def test_the_page_takes_a_bounded_number_of_queries(
    world: World, frozen_backlog: None, django_assert_max_num_queries
) -> None:
    WebhookEventFactory.create_batch(60, status="failed", tenant=world.tenant_a)  # a full page
    staff = client_for(world.staff)
    # Session, user, the two backlog queries, one page of events (tenants joined in).
    with django_assert_max_num_queries(5):
        assert "Acme" in staff.get(URL).content.decode()
    with django_assert_max_num_queries(5):
        assert staff.get(f"{URL}?status=pending").status_code == 200
    # The refresh skips the list.
    with django_assert_max_num_queries(4):
        assert staff.get(URL, headers={"HX-Request": "true"}).status_code == 200


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_customers_and_anonymous_users_cannot_see_it(world: World, htmx: bool) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    assert client_for(world.owner_a).get(URL, headers=headers).status_code == 404
    anonymous = client_for(None).get(URL, headers=headers)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
