from django.urls import path

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
]
