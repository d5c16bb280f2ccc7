from django.urls import path

from messaging.senders import staff_views as views

app_name = "staff_senders"
urlpatterns = [
    path("senders/", views.senders, name="list"),
    path("senders/<int:sender_id>/approve/", views.approve, name="approve"),
    path("senders/<int:sender_id>/reject/", views.reject, name="reject"),
    path("senders/<int:sender_id>/revoke/", views.revoke, name="revoke"),
    path("senders/deny/", views.deny_create, name="deny_add"),
    path("senders/deny/<int:entry_id>/delete/", views.deny_delete, name="deny_delete"),
]
