from django.urls import path

from huanxin.trace import views

app_name = "trace"

urlpatterns = [
    path("verify/", views.verify_search, name="verify_search"),
    path("verify/<str:code>/", views.verify_page, name="verify"),
    path("8004/<str:giai>", views.resolve_digital_link, name="digital_link"),
    path("trace/public-key.pem", views.public_key, name="public_key"),
    path("trace/workspace/", views.workspace, name="workspace"),
    path("trace/commission/", views.commission, name="commission"),
    path("trace/pickup/", views.pickup, name="pickup"),
    path("trace/labels.pdf", views.label_sheet, name="labels"),
    path("trace/label/<str:code>.png", views.label_png, name="label_png"),
    path("trace/staff/", views.staff, name="staff"),
]
