"""The tenant portal's own pages (overview, members), mounted under /t/<tenant_slug>/."""

from django.urls import path

from accounts import views
from console.views import dashboard

app_name = "portal"
urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite_view, name="member_invite"),
    path("members/<int:membership_id>/remove/", views.member_remove_view, name="member_remove"),
]
