"""Web routes of accounts: the org admin's member pages, one's own password,
and the second factor (the login's code step and the enrolment page).

config/urls.py includes them after crm's and programs' routes.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from support_network.web import members, mfa, password, sso

urlpatterns = [
    path("members/", members.member_list, name="members"),
    path("members/invite/", members.member_invite_page, name="members-invite"),
    path("members/<int:pk>/role/", members.member_role, name="members-role"),
    path("members/<int:pk>/active/", members.member_active, name="members-active"),
    path(
        "members/<int:pk>/unlock/",
        members.member_unlock_page,
        name="members-unlock",
    ),
    path("members/<int:pk>/resend/", members.member_resend, name="members-resend"),
    # Names are Django's: its views redirect to them.
    path(
        "password/change/",
        password.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path(
        "password-reset/",
        password.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        password.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # The login (with its second step for users with TOTP) and /account/mfa/.
    path("login/", mfa.MfaLoginView.as_view(), name="login"),
    path("login/otp/", mfa.login_otp, name="login-otp"),
    path("account/mfa/", mfa.mfa_setup, name="mfa-setup"),
    # Single sign-on (OpenID Connect per organisation): the redirect URI of
    # every IdP is /sso/callback/.
    path("sso/start/", sso.sso_start, name="sso-start"),
    path("sso/callback/", sso.sso_callback, name="sso-callback"),
    path("account/api-token/", sso.api_token_page, name="api-token-page"),
]
