from django.urls import path

from messaging.campaigns import staff_views as views

app_name = "staff_campaigns"
urlpatterns = [
    path("campaigns/", views.campaigns, name="list"),
    path("campaigns/<int:campaign_id>/pause/", views.pause, name="pause"),
]
