"""The tenant portal's own pages (overview, members), mounted under /t/<tenant_slug>/."""

from django.urls import path

from accounts import views
from console.traffic import views as traffic
from console.views import dashboard

app_name = "portal"
urlpatterns = [
    path("", dashboard, name="dashboard"),
    # One route per chart (not a <chart> keyword): each is a fixed page of the tenant's own.
    *(
        path(
            f"charts/{chart}.json", traffic.overview_chart, {"chart": chart}, name=f"chart_{chart}"
        )
        for chart in ("messages", "calls", "spend")
    ),
    path("charts/numbers/<int:number_id>.json", traffic.number_chart, name="number_chart"),
    path("charts/campaigns/<int:campaign_id>.json", traffic.campaign_chart, name="campaign_chart"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite_view, name="member_invite"),
    path("members/<int:membership_id>/remove/", views.member_remove_view, name="member_remove"),
]
