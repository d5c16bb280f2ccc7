from django.urls import path

from billing import staff_views as views
from billing.invoices import staff_views as invoices

app_name = "staff_billing"
urlpatterns = [
    path("billing/plans/", views.plans, name="plans"),
    path("billing/plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("billing/plans/<int:plan_id>/default/", views.plan_default, name="plan_default"),
    path("billing/plans/<int:plan_id>/versions/", views.version_new, name="version_new"),
    path("billing/versions/<int:version_id>/", views.version_detail, name="version"),
    path("billing/tenants/<slug:slug>/", views.tenant_billing, name="tenant"),
    path("billing/tenants/<slug:slug>/plan/", views.tenant_plan, name="tenant_plan"),
    path("billing/tenants/<slug:slug>/settings/", views.tenant_settings, name="tenant_settings"),
    path("billing/tenants/<slug:slug>/top-up/", views.tenant_top_up, name="tenant_top_up"),
    path("billing/alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("billing/invoices/", invoices.invoices, name="invoices"),
    path("billing/invoices/<int:invoice_id>/", invoices.invoice, name="invoice"),
    path("billing/invoices/<int:invoice_id>/issue/", invoices.issue, name="issue"),
    path(
        "billing/invoices/<int:invoice_id>/adjustments/",
        invoices.adjustment_add,
        name="adjustment_add",
    ),
    path(
        "billing/invoices/<int:invoice_id>/adjustments/<int:line_id>/remove/",
        invoices.adjustment_remove,
        name="adjustment_remove",
    ),
    path("billing/invoices/<int:invoice_id>/pdf/", invoices.pdf, name="pdf"),
    path("billing/invoices/<int:invoice_id>/csv/", invoices.csv, name="csv"),
]
