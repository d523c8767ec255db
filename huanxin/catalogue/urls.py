from django.urls import path

from huanxin.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.product_list, name="products"),
    path("products/<int:pk>/", views.product_detail, name="product"),
    path("imports/", views.import_products, name="imports"),
    path("imports/template.xlsx", views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.import_report, name="import"),
    path("imports/<int:pk>/report.xlsx", views.import_report_download, name="import_download"),
    path("prices/", views.price_filing, name="prices"),
    path("prices/products/", views.product_picker, name="product_picker"),
    path("price-rules/", views.price_rules, name="price_rules"),
]
