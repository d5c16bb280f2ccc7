"""Customer webhooks: the signing secret, each number's delivery log, event endpoints."""

from django.urls import path

from messaging.customer_webhooks import views

app_name = "customer_webhooks"
urlpatterns = [
    path("", views.webhook_settings, name="settings"),
    path("rotate/", views.webhook_secret_rotate, name="rotate"),
    path("numbers/<int:number_id>/", views.delivery_log, name="log"),
    path("deliveries/<int:delivery_id>/resend/", views.delivery_resend_view, name="resend"),
    path("endpoints/add/", views.endpoint_add_view, name="endpoint_add"),
    path("endpoints/<int:endpoint_id>/", views.endpoint_log, name="endpoint_log"),
    path("endpoints/<int:endpoint_id>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("endpoints/<int:endpoint_id>/pause/", views.endpoint_pause, name="endpoint_pause"),
    path("endpoints/<int:endpoint_id>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("endpoints/<int:endpoint_id>/test/", views.endpoint_test_view, name="endpoint_test"),
    path(
        "events/<int:event_delivery_id>/resend/",
        views.event_delivery_resend_view,
        name="event_resend",
    ),
]
