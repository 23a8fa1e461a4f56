"""manage.py create_user USERNAME --organisation CODE --role ROLE [--password PW] [--email E]."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from support_network.choices import Role
from support_network.errors import DomainError
from support_network.services.network import user_create_or_update


class Command(BaseCommand):
    help = "ユーザーを作成（または更新）し、組織への所属と役割を登録します。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--organisation", required=True, help="組織コード (例: inpit-window-13)"
        )
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", default=None)
        parser.add_argument("--email", default=None)

    def handle(self, *args, **options):
        try:
            membership, created = user_create_or_update(
                username=options["username"],
                organisation_code=options["organisation"],
                role=options["role"],
                password=options["password"],
                email=options["email"],
                # The password validators apply here too (issue 26 item 9):
                # `--password 1` is refused with their Japanese messages.
                validate=True,
            )
        except DomainError as exc:
            field = getattr(exc, "field", None)
            if field == "password":
                raise CommandError(
                    _("パスワードを設定できません: %(reason)s") % {"reason": exc.detail}
                ) from exc
            raise CommandError(exc.detail) from exc
        verb = "created" if created else "updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {membership.user.username}: "
                f"{membership.organisation.code} / {membership.role}"
            )
        )
