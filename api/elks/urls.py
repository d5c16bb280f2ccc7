"""/a1/: 46elks' own paths, answered by api.elks.views (see docs/api-46elks.md)."""

from django.urls import re_path

from api.elks import views

app_name = "a1"
urlpatterns = [
    re_path(r"^me/?$", views.me, name="me"),
]
