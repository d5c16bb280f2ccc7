"""/a1/: 46elks' own paths, answered by api.elks.views (see docs/api-46elks.md)."""

from django.urls import re_path

from api.elks import views

app_name = "a1"
ITEM = r"(?P<item>[^/]+)"
urlpatterns = [
    re_path(r"^me/?$", views.me, name="me"),
    re_path(r"^sms/?$", views.sms, name="sms"),
    re_path(rf"^sms/{ITEM}/?$", views.sms_one, name="sms-item"),
    re_path(r"^mms/?$", views.mms, name="mms"),
    re_path(rf"^mms/{ITEM}/?$", views.mms_one, name="mms-item"),
    re_path(r"^calls/?$", views.calls, name="calls"),
    re_path(rf"^calls/{ITEM}/?$", views.calls_one, name="calls-item"),
    re_path(r"^numbers/?$", views.numbers, name="numbers"),
    re_path(rf"^numbers/{ITEM}/?$", views.numbers_one, name="numbers-item"),
    re_path(r"^recordings/?$", views.recordings, name="recordings"),
    re_path(rf"^recordings/{ITEM}/?$", views.recordings_one, name="recordings-item"),
]
