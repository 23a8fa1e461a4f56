"""Replace the `referrals` export kind with a slow one, in a worker subprocess only.

Loaded by tests/crm/worker_export_settings.py: CRM_TEST_EXPORT_ROWS rows, one
every CRM_TEST_EXPORT_ROW_DELAY seconds, so a test can SIGKILL the worker
in the middle of a build (tests/crm/test_export_reclaim.py).
"""

from __future__ import annotations

import os
import time

from django.apps import AppConfig


class SlowExportConfig(AppConfig):
    name = "tests.crm.slow_export_app"
    label = "slow_export_test"

    def ready(self) -> None:
        from crm.exports.kinds import ExportTable, export_kind_register
        from crm.exports.writers import INT, TEXT, Column

        rows = int(os.environ.get("CRM_TEST_EXPORT_ROWS", "100"))
        delay = float(os.environ.get("CRM_TEST_EXPORT_ROW_DELAY", "0.1"))

        def generate():
            for i in range(rows):
                time.sleep(delay)
                yield (i, f"行 {i}")

        def provider(*, actor, fiscal_year, params):
            return ExportTable(
                columns=[Column("番号", INT), Column("内容", TEXT)],
                rows=generate(),
                total=rows,
            )

        export_kind_register("referrals", provider)
