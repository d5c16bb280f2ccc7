from django.urls import path

from messaging.senders import views

app_name = "senders"
urlpatterns = [
    path("", views.sender_names, name="list"),
    path("request/", views.sender_name_request_view, name="request"),
    path("<int:sender_name_id>/withdraw/", views.sender_name_withdraw_view, name="withdraw"),
]
