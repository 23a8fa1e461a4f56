"""Writes on the network: user accounts and their memberships."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from support_network.choices import Role
from support_network.errors import ValidationFailed
from support_network.models import Membership, Organisation


@transaction.atomic
def user_create_or_update(
    *,
    username: str,
    organisation_code: str,
    role: str,
    password: str | None = None,
    email: str | None = None,
    validate: bool = True,
) -> tuple[Membership, bool]:
    """Create or update a user and their membership of one organisation.

    Return (membership, user_created). The role of an existing membership is
    replaced; other memberships of the user are kept.
    """
    if role not in Role.values:
        raise ValidationFailed(
            _("役割は %(roles)s のいずれかです。") % {"roles": ", ".join(Role.values)},
            field="role",
        )
    try:
        organisation = Organisation.objects.get(code=organisation_code)
    except Organisation.DoesNotExist as exc:
        raise ValidationFailed(
            _("組織コード「%(code)s」は登録されていません。")
            % {"code": organisation_code},
            field="organisation",
        ) from exc
    username = username.strip()
    if not username:
        raise ValidationFailed(_("ユーザー名を入力してください。"), field="username")
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    created = user is None
    if created:
        user = user_model(username=username)  # saved only once all is checked
    if email is not None:
        user.email = email
    if password:
        if validate:
            # Django's validators (settings.AUTH_PASSWORD_VALIDATORS: length,
            # similarity to the user's name and e-mail, common, numeric), in
            # Japanese; before anything is written, so a refused password
            # creates no account.
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise ValidationFailed(
                    " ".join(exc.messages), field="password"
                ) from exc
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    membership, _created = Membership.objects.update_or_create(
        user=user, organisation=organisation, defaults={"role": role, "is_active": True}
    )
    return membership, created


# Organisations' place (kind, prefecture, region) is copied into derived
# tables of other apps (crm's statistics facts). Those apps register a hook
# here; support_network never imports them.
_organisation_place_hooks: list = []


def organisation_place_hook_register(function) -> None:
    """Call function(organisation_ids) whenever organisations' place changes."""
    if function not in _organisation_place_hooks:
        _organisation_place_hooks.append(function)


def organisation_place_changed(organisation_ids: list[int]) -> None:
    """Tell the registered hooks that these organisations moved or changed kind."""
    for function in _organisation_place_hooks:
        function(organisation_ids)
