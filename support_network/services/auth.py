"""Writes on one's own login: the password change (API and web)."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from support_network.errors import ValidationFailed
from support_network.tokens import user_tokens_revoke


def user_password_change(
    *, user, old_password: str, new_password: str, keep_token=None, request=None
):
    """Change user's password; every other session and API token ends.

    Django's password validators apply (Japanese messages): a wrong current
    password is a 400 on `old_password`, a weak new one on `new_password`.
    Other sessions end because their session auth hash no longer matches;
    the current web session (request) is kept with `update_session_auth_hash`,
    and so is keep_token, the API token making the request.
    """
    if not user.check_password(old_password or ""):
        raise ValidationFailed(
            _("現在のパスワードが正しくありません。"), field="old_password"
        )
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field="new_password") from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        user_tokens_revoke(user=user, keep=keep_token)
    session = getattr(request, "session", None)
    if session is not None and str(session.get("_auth_user_id")) == str(user.pk):
        update_session_auth_hash(request, user)
    return user
