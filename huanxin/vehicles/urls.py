from django.urls import path

from huanxin.vehicles import views

app_name = "vehicles"

urlpatterns = [
    path("", views.search, name="search"),
    path("imports/", views.import_registrations, name="imports"),
    path("imports/<int:pk>/", views.import_report, name="import"),
    path("scrapping/", views.scrapping_list, name="scrapping"),
    path("certificates/", views.certificates, name="certificates"),
    path("certificates/<int:pk>/", views.certificate, name="certificate"),
    path("certificates/<int:pk>/assemblies/", views.record_assemblies, name="certificate_assemblies"),
    path("certificates/<int:pk>/batteries/", views.hand_over_battery, name="certificate_batteries"),
    # Public: the QR code on a certificate lands here; no sign-in.
    path("check/", views.certificate_check_search, name="certificate_check_search"),
    path("check/<str:number>/", views.certificate_check, name="certificate_check"),
]
