from django.contrib.auth.views import LogoutView
from django.urls import path

from huanxin.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("login/sms/", views.sms_sign_in, name="sms_login"),
    path("code/", views.send_code, name="send_code"),
    path("register/code/", views.send_code),  # the address earlier pages posted to
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/new/", views.password_reset_new, name="password_reset_new"),
    path("identity/", views.verify_identity, name="verify_identity"),
    path("profile/", views.profile, name="profile"),
    path("district/", views.registered_district, name="district"),
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation"),
]
