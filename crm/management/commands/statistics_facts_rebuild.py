"""manage.py statistics_facts_rebuild: rebuild every statistics fact.

The services keep `crm.ConsultationFact` in step with each write; this is for
data written around them (a restore, a bulk load in SQL) or a check. It
rewrites all facts in one transaction: statistics stay readable meanwhile
and show the old facts until it commits.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from crm.statistics.facts import consultation_facts_refresh


class Command(BaseCommand):
    help = "統計用相談行（ConsultationFact）をすべての相談から作り直します。"

    def handle(self, *args, **options):
        started = time.perf_counter()
        with transaction.atomic():
            written = consultation_facts_refresh()
        self.stdout.write(
            f"統計用相談行を作り直しました: {written:,} 行"
            f"（{time.perf_counter() - started:.1f} 秒）"
        )
