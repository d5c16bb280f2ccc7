"""The portal's API page: /t/<slug>/api/ (keys, the curl example, recent requests)."""

from django.urls import path

from api import portal_views

app_name = "api_portal"
urlpatterns = [
    path("", portal_views.api_page, name="page"),
]
