from django.urls import path

from messaging import views
from messaging.media import message_image

app_name = "messaging"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("c/<int:conversation_id>/", views.thread, name="thread"),
    path("new/", views.compose, name="compose"),
    path("new/counter/", views.counter, name="counter"),
    path("log/", views.log, name="log"),
    path("log/export.csv", views.export, name="export"),
    path("opt-outs/", views.optouts, name="optouts"),
    path("opt-outs/record/", views.optout_record_view, name="optout_record"),
    path("opt-outs/export.csv", views.optout_export, name="optout_export"),
    path("settings/", views.settings_view, name="settings"),
    path("images/<int:image_id>/", message_image, name="image"),
]
