"""Customer webhooks: the signing secret and each number's delivery log."""

from django.urls import path

from messaging.customer_webhooks import views

app_name = "customer_webhooks"
urlpatterns = [
    path("", views.webhook_settings, name="settings"),
    path("rotate/", views.webhook_secret_rotate, name="rotate"),
    path("numbers/<int:number_id>/", views.delivery_log, name="log"),
    path("deliveries/<int:delivery_id>/resend/", views.delivery_resend_view, name="resend"),
]
