"""Staff: a tenant's API limits, keys and requests."""

from django.urls import path

from api import staff_views

app_name = "staff_api"
urlpatterns = [
    path("tenants/<slug:slug>/api/", staff_views.tenant_api, name="tenant_api"),
    path(
        "tenants/<slug:slug>/api/keys/<str:key_id>/revoke/",
        staff_views.key_revoke,
        name="key_revoke",
    ),
]
