import pytest
from django.core import mail
from django.test import Client

from accounts.models import Membership
from accounts.services import set_password_url
from tests.conftest import World, client_for
from tests.factories import MembershipFactory, TenantFactory, UserFactory

PASSWORD = "correct horse battery"


def _login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_customer_lands_in_their_tenant(world: World) -> None:
    client = Client()
    response = _login(client, "owner@acme.example")
    assert response.status_code == 302
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/t/acme/"
    assert b"Acme" in response.content


def test_staff_lands_in_the_console(world: World) -> None:
    client = Client()
    _login(client, world.staff.email)
    assert client.get("/").url == "/staff/"


def test_user_in_two_tenants_picks_one(world: World) -> None:
    MembershipFactory(user=world.owner_a, tenant=world.tenant_b, role=Membership.Role.MEMBER)
    client = client_for(world.owner_a)
    assert client.get("/").url == "/accounts/choose-tenant/"
    page = client.get("/accounts/choose-tenant/").content.decode()
    assert "/t/acme/" in page and "/t/bravo/" in page


def test_wrong_password_is_refused_with_a_message(world: World) -> None:
    response = _login(Client(), "owner@acme.example", "wrong")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_suspended_tenant_users_cannot_sign_in(world: World) -> None:
    world.tenant_a.status = "suspended"
    world.tenant_a.save()
    response = _login(Client(), "owner@acme.example")
    assert response.status_code == 200
    assert "suspended" in response.content.decode()
    # An existing session is dropped too.
    client = client_for(world.member_a)
    assert client.get("/t/acme/").status_code == 302


def test_sign_in_is_throttled_per_account(world: World, settings) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        _login(client, "owner@acme.example", "wrong")
    response = _login(client, "owner@acme.example")  # even the right password now waits
    assert "Too many failed sign-ins" in response.content.decode()


@pytest.mark.django_db
def test_set_password_link_works_once() -> None:
    tenant = TenantFactory()
    user = UserFactory(email="new@example.com", password=None)
    MembershipFactory(user=user, tenant=tenant, role="owner")
    link = set_password_url(user).split("127.0.0.1:8000", 1)[-1]
    client = Client()
    page = client.get(link, follow=True)
    assert b"Choose your password" in page.content
    form_url = page.redirect_chain[-1][0]
    new = "a-long-new-pass-phrase"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert _login(Client(), "new@example.com", new).status_code == 302
    assert b"no longer works" in Client().get(link, follow=True).content


def test_owner_invites_and_removes_a_member(world: World) -> None:
    client = client_for(world.owner_a)
    response = client.post(
        "/t/acme/members/invite/", {"email": "New@Acme.example", "role": "member"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(tenant=world.tenant_a, user__email="new@acme.example")
    assert len(mail.outbox) == 1 and "/accounts/set-password/" in mail.outbox[0].body

    # Removal asks first, then removes.
    url = f"/t/acme/members/{membership.pk}/remove/"
    assert b"Remove new@acme.example?" in client.get(url).content
    client.post(url)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    # The page's history reads as sentences, not event codes.
    world.owner_a.full_name = "Anna Berg"
    world.owner_a.save()
    page = client.get("/t/acme/members/").content.decode()
    assert "Anna Berg invited new@acme.example as member." in page
    assert "Anna Berg removed new@acme.example." in page and "member.invited" not in page


def test_invite_errors_are_shown_and_nothing_changes(world: World) -> None:
    client = client_for(world.owner_a)
    before = Membership.objects.count()
    response = client.post("/t/acme/members/invite/", {"email": "member@acme.example"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    response = client.post("/t/acme/members/invite/", {"email": "not-an-email", "role": "x"})
    assert response.status_code == 400
    assert Membership.objects.count() == before


def test_member_cannot_manage_users(world: World) -> None:
    client = client_for(world.member_a)
    page = client.get("/t/acme/members/").content.decode()
    assert "Invite a member" not in page
    response = client.post("/t/acme/members/invite/", {"email": "x@y.example", "role": "owner"})
    assert response.status_code == 403


def test_last_owner_cannot_be_removed(world: World) -> None:
    owner = Membership.objects.get(user=world.owner_a, tenant=world.tenant_a)
    client_for(world.owner_a).post(f"/t/acme/members/{owner.pk}/remove/")
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_the_last_owner_is_not_offered_remove_a_member_is(world: World) -> None:
    owner = Membership.objects.get(user=world.owner_a, tenant=world.tenant_a)
    member = Membership.objects.get(user=world.member_a, tenant=world.tenant_a)
    page = client_for(world.owner_a).get("/t/acme/members/").content.decode()
    assert f"/members/{owner.pk}/remove/" not in page and "Last owner" in page
    assert f"/members/{member.pk}/remove/" in page
    # With a second owner, either may be removed: both are offered.
    Membership.objects.filter(pk=member.pk).update(role=Membership.Role.OWNER)
    page = client_for(world.owner_a).get("/t/acme/members/").content.decode()
    assert f"/members/{owner.pk}/remove/" in page and "Last owner" not in page
