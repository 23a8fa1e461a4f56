"""Web routes of accounts: the org admin's member pages, one's own password."""

from django.contrib.auth import views as auth_views
from django.urls import path

from support_network import web_members, web_password

urlpatterns = [
    path("members/", web_members.member_list, name="members"),
    path("members/invite/", web_members.member_invite_page, name="members-invite"),
    path("members/<int:pk>/role/", web_members.member_role, name="members-role"),
    path("members/<int:pk>/active/", web_members.member_active, name="members-active"),
    path(
        "members/<int:pk>/unlock/",
        web_members.member_unlock_page,
        name="members-unlock",
    ),
    path("members/<int:pk>/resend/", web_members.member_resend, name="members-resend"),
    # Names are Django's: its views redirect to them.
    path(
        "password/change/",
        web_password.PasswordChangeView.as_view(),
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
        web_password.PasswordResetView.as_view(),
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
        web_password.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
