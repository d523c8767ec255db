from django.urls import path

from huanxin.core import views

app_name = "core"

urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
]
