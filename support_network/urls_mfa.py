"""Web routes of the second factor: the login's code step and the enrolment page."""

from django.urls import path

from support_network import web_mfa

urlpatterns = [
    path("login/", web_mfa.MfaLoginView.as_view(), name="login"),
    path("login/otp/", web_mfa.login_otp, name="login-otp"),
    path("account/mfa/", web_mfa.mfa_setup, name="mfa-setup"),
]
