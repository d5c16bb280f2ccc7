from django.urls import path

from calls import views

app_name = "calls"
urlpatterns = [
    path("", views.call_log, name="log"),
    path("export.csv", views.export, name="export"),
    path("<int:call_id>/", views.call_detail, name="detail"),
    path("recordings/<int:recording_id>/audio/", views.recording_audio, name="recording_audio"),
    path("voicemail/", views.voicemail, name="voicemail"),
    path("dial/", views.dial, name="dial"),
    path("greetings/", views.greetings, name="greetings"),
    path("greetings/<int:greeting_id>/delete/", views.greeting_delete, name="greeting_delete"),
    path("settings/", views.settings_view, name="settings"),
]
