from django.urls import path

from console import provider_event_views as views

app_name = "staff_webhooks"
urlpatterns = [
    path("webhooks/", views.events, name="list"),
    path("webhooks/<int:event_id>/retry/", views.retry, name="retry"),
]
