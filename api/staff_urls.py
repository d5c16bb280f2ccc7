"""Staff: a tenant's API limits."""

from django.urls import path

from api import staff_views

app_name = "staff_api"
urlpatterns = [
    path("tenants/<int:tenant_id>/api/", staff_views.tenant_api, name="tenant_api"),
]
