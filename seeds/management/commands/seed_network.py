"""manage.py seed_network: load the network and programs from seeds/ (idempotent)."""

from django.core.management.base import BaseCommand

from seeds.services import network_seed


class Command(BaseCommand):
    help = "地域ブロック・都道府県・組織・支援事業を seeds/data から登録します（何度実行しても同じ結果）。"

    def handle(self, *args, **options):
        report = network_seed()
        self.stdout.write(self.style.SUCCESS(f"seed_network: {report.summary()}"))
