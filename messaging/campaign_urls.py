from django.urls import path

from messaging import views

app_name = "campaigns"
urlpatterns = [path("", views.campaign_list, name="list")]
