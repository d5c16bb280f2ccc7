from numbers import views

from django.urls import path

app_name = "numbers"
urlpatterns = [path("", views.number_list, name="list")]
