from django.urls import path

from huanxin.subsidies import views

app_name = "subsidies"

urlpatterns = [
    path("me/subsidies/", views.my_subsidies, name="mine"),
    path("me/subsidies/claim/", views.claim, name="claim"),
    path("me/subsidies/claim/categories/", views.claim_categories, name="claim_categories"),
    path("me/subsidies/<int:pk>/", views.qualification_detail, name="qualification"),
    path("me/subsidies/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("merchant/", views.merchant_home, name="merchant_home"),
    path("merchant/redeem/", views.redeem, name="redeem"),
    path("merchant/redeem/lookup/", views.lookup_code, name="lookup"),
    path("merchant/sales/", views.merchant_sales, name="merchant_sales"),
    path("merchant/sales/export.<str:file_format>", views.merchant_sales_export, name="merchant_sales_export"),
    path("merchant/redemptions/<int:pk>/", views.merchant_redemption, name="merchant_redemption"),
    path("merchant/enrolment/", views.enrolment, name="enrolment"),
    path("subsidies/board/", views.board, name="board"),
    path("subsidies/search/", views.search, name="search"),
    path("subsidies/enrolments/", views.enrolments_review, name="enrolments_review"),
    path("subsidies/holds/", views.holds, name="holds"),
]
