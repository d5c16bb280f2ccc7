from django.urls import path

from billing import views
from billing.alerts import views as alert_views
from billing.invoices import views as invoices

app_name = "billing"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("usage/card/", views.usage, name="usage"),
    path("usage/", views.usage_page, name="usage_page"),
    path("usage/chart.json", views.usage_chart, name="usage_chart"),
    path("usage/export.csv", views.usage_export, name="usage_export"),
    path("alerts/<int:alert_id>/dismiss/", alert_views.dismiss, name="alert_dismiss"),
    path("invoices/", invoices.invoices, name="invoices"),
    path("invoices/members/", invoices.invoices_members, name="invoices_members"),
    path("invoices/<int:invoice_id>/", invoices.invoice, name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", invoices.invoice_pdf_view, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/csv/", invoices.invoice_csv_view, name="invoice_csv"),
]
