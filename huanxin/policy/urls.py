from django.urls import path

from huanxin.policy import views

app_name = "policy"

urlpatterns = [
    path("programmes/", views.programme_list, name="programmes"),
    path("programmes/<slug:code>/", views.programme_detail, name="programme"),
    path("policy/programmes/", views.staff_programmes, name="staff_programmes"),
    path("policy/programmes/<slug:code>/", views.staff_programme, name="staff_programme"),
    path("policy/programmes/<slug:code>/budget/", views.set_budget, name="set_budget"),
    path("policy/programmes/<slug:code>/status/", views.set_status, name="set_status"),
    path("policy/programmes/<slug:code>/versions/new/", views.version_new, name="version_new"),
    path("policy/programmes/<slug:code>/versions/<int:number>/", views.version_detail, name="version"),
    path("measures/", views.measure_list, name="measures"),
    path("measures/<int:number>/", views.measure_detail, name="measure"),
]
