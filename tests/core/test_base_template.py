"""Every page's frame: a skip link to the content for keyboard users."""

from __future__ import annotations

from tests.conftest import World, client_for


def test_every_page_starts_with_a_skip_link_to_its_main_content(world: World) -> None:
    for path in ("/t/acme/", "/t/acme/messages/", "/accounts/login/"):
        page = client_for(world.owner_a if path != "/accounts/login/" else None).get(path)
        html = page.content.decode()
        assert '<a class="skip-link" href="#main">Skip to content</a>' in html, path
        assert '<main class="container" id="main" tabindex="-1">' in html, path
