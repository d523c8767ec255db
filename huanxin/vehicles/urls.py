from django.urls import path

from huanxin.vehicles import views

app_name = "vehicles"

urlpatterns = [
    path("", views.search, name="search"),
    path("imports/", views.import_registrations, name="imports"),
    path("imports/<int:pk>/", views.import_report, name="import"),
    path("scrapping/", views.scrapping_list, name="scrapping"),
]
