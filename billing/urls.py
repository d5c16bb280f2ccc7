from django.urls import path

from billing import views
from billing.alerts import views as alert_views

app_name = "billing"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("usage/", views.usage, name="usage"),
    path("alerts/<int:alert_id>/dismiss/", alert_views.dismiss, name="alert_dismiss"),
]
