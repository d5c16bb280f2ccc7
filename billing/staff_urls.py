from django.urls import path

from billing.invoices import staff_views as invoices

app_name = "staff_billing"
urlpatterns = [
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
