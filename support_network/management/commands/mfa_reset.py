"""manage.py mfa_reset USERNAME: remove a user's second factor (a lost phone)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from support_network.mfa import user_second_factor_remove
from support_network.tokens import user_tokens_revoke


class Command(BaseCommand):
    help = (
        "ユーザーの二要素認証（認証アプリと回復コード）を削除します。"
        "API トークンも失効します。必須の役割のユーザーは次のログインで設定し直します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"ユーザー「{options['username']}」はいません。")
        user_second_factor_remove(user=user)
        revoked = user_tokens_revoke(user=user)
        self.stdout.write(
            self.style.SUCCESS(
                f"{user.username}: second factor removed, {revoked} API token(s) revoked"
            )
        )
