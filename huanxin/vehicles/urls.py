from django.urls import path

from huanxin.vehicles import application_views, views

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
    path("certificates/<int:pk>/revoke/", views.revoke_certificate, name="certificate_revoke"),
    # Public: the QR code on a certificate lands here; no sign-in.
    path("check/", views.certificate_check_search, name="certificate_check_search"),
    path("check/<str:number>/", views.certificate_check, name="certificate_check"),
    # Car subsidy applications
    path("applications/", application_views.my_applications, name="applications"),
    path("applications/new/", application_views.apply, name="apply"),
    path("applications/prepare/", application_views.prepare, name="prepare"),
    path("applications/trucks/", application_views.truck_applications, name="truck_applications"),
    path("applications/trucks/new/", application_views.truck_apply, name="truck_apply"),
    path("applications/<int:pk>/confirm/", application_views.confirm, name="application_confirm"),
    path("applications/queue/", application_views.review_queue, name="application_queue"),
    path("top-ups/", application_views.top_ups, name="top_ups"),
    path("applications/<int:pk>/", application_views.application_detail, name="application"),
    path("applications/<int:pk>/upload/", application_views.upload, name="application_upload"),
    path(
        "applications/<int:pk>/evidence/<int:evidence_id>/",
        application_views.evidence_download,
        name="application_evidence",
    ),
    path("applications/<int:pk>/accept/", application_views.accept, name="application_accept"),
    path("applications/<int:pk>/supplement/", application_views.supplement, name="application_supplement"),
    path("applications/<int:pk>/supplied/", application_views.supplied, name="application_supplied"),
    path("applications/<int:pk>/decide/", application_views.decide, name="application_decide"),
    path("applications/<int:pk>/reconsider/", application_views.reconsider, name="application_reconsider"),
    path("applications/<int:pk>/account/", application_views.correct_account, name="application_account"),
]

# Legal-clock flags (即将到期、已逾期、补正逾期), in their own module.
from huanxin.vehicles import clock_flag_views  # noqa: E402

urlpatterns += [
    path("applications/clock-flags/", clock_flag_views.clock_flags_page, name="application_clock_flags"),
]
