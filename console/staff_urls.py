from django.urls import path

from billing.usage import staff_views as usage
from console import staff_views as views
from console.traffic import views as traffic

app_name = "staff"
urlpatterns = [
    path("", views.console, name="console"),
    path("charts/<slug:chart>.json", traffic.staff_chart, name="chart"),
    path("balance/", views.balance, name="balance"),
    path("sync/", views.sync_now, name="sync"),
    path("view/end/", views.view_end, name="view_end"),
    path("orphans/<int:pk>/resolve/", views.orphan_resolve, name="orphan_resolve"),
    path("demo/", views.demo_panel, name="demo"),
    path("tenants/new/", views.tenant_new, name="tenant_new"),
    path("tenants/<slug:slug>/", views.tenant_detail, name="tenant"),
    path("tenants/<slug:slug>/limit/", views.tenant_limit, name="tenant_limit"),
    path("tenants/<slug:slug>/suspend/", views.tenant_suspend_view, name="tenant_suspend"),
    path("tenants/<slug:slug>/reactivate/", views.tenant_reactivate_view, name="tenant_reactivate"),
    path("tenants/<slug:slug>/view/", views.tenant_view_start, name="tenant_view"),
    path("tenants/<slug:slug>/usage/", usage.tenant_usage, name="tenant_usage"),
    path(
        "tenants/<slug:slug>/usage/chart.json", usage.tenant_usage_chart, name="tenant_usage_chart"
    ),
    path(
        "tenants/<slug:slug>/usage/export.csv",
        usage.tenant_usage_export,
        name="tenant_usage_export",
    ),
    path("billing/margin/", usage.margin, name="margin"),
    path("billing/margin/chart.json", usage.margin_chart, name="margin_chart"),
    path("billing/margin/export.csv", usage.margin_export, name="margin_export"),
]
