from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("usage/card/", views.usage, name="usage"),
    path("usage/", views.usage_page, name="usage_page"),
    path("usage/chart.json", views.usage_chart, name="usage_chart"),
    path("usage/export.csv", views.usage_export, name="usage_export"),
]
