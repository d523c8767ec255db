from django.urls import path

from huanxin.recycling import network_views, views

app_name = "recycling"

urlpatterns = [
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<int:pk>/", views.invoice, name="invoice"),
    path("invoices/<int:pk>/void/", views.void, name="invoice_void"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/export/", views.invoice_export, name="invoice_export"),
    path("summary/", views.summary, name="summary"),
    path("tax-numbers/", views.tax_numbers, name="tax_numbers"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pk>/pdf/", views.my_invoice_pdf, name="my_invoice_pdf"),
    path("network/", network_views.finder, name="network_finder"),
    path("network/sites/", network_views.sites, name="network_sites"),
    path("network/sites/<int:pk>/active/", network_views.site_active, name="network_site_active"),
]
