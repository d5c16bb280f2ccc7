"""The portal's API page: /t/<slug>/api/ (keys, the curl examples, recent requests)."""

from django.urls import path

from api import portal_views

app_name = "api_portal"
urlpatterns = [
    path("", portal_views.api_page, name="page"),
    path("keys/new/", portal_views.key_create_view, name="key_create"),
    path("keys/<str:key_id>/revoke/", portal_views.key_revoke_view, name="key_revoke"),
    path("members/", portal_views.members_access_view, name="members_access"),
]
