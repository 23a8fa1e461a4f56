"""The `disclosure` export kind: the package answering a 開示請求 (APPI art. 33).

A ZIP with `disclosure.json` (every section) and one CSV per section (UTF-8
with BOM, spreadsheet-safe through crm/exports/writers.py): the person's
contact rows, the consents they gave, the provision records (第三者提供記録)
where the requesting organisation provided or received their data, and the
passages of records that name them (crm/selectors/personal_data.py). Built
by `crm.export_build` like every export, with progress; requested through
crm/services/personal_requests.py `contact_disclosure_request` by an org
admin who may see the contact.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exports.kinds import export_kind_register
from crm.exports.writers import TEXT, Column, WriteResult, write_csv
from crm.models import Contact, Export
from crm.permissions import contact_require_disclosable
from crm.selectors.personal_data import person_disclosure
from crm.selectors.visibility import contacts_visible_to
from support_network.actors import Actor
from support_network.errors import ValidationFailed

# Section → (CSV file name, Japanese title, [(key, header)]).
SECTIONS = {
    "contacts": (
        "本人の情報.csv",
        "本人の情報（担当者）",
        [
            ("id", "ID"),
            ("company", "企業等"),
            ("organisation", "登録組織"),
            ("name", "氏名"),
            ("name_kana", "フリガナ"),
            ("title", "役職"),
            ("email", "メールアドレス"),
            ("phone", "電話番号"),
            ("created_at", "登録日時"),
            ("updated_at", "更新日時"),
            ("anonymised_at", "匿名化日時"),
        ],
    ),
    "consents": (
        "同意.csv",
        "第三者提供の同意",
        [
            ("id", "ID"),
            ("contact", "担当者ID"),
            ("company", "企業等"),
            ("scope", "範囲"),
            ("organisations", "提供先組織"),
            ("obtained_on", "取得日"),
            ("method", "取得方法"),
            ("recorded_by_organisation", "記録組織"),
            ("withdrawn_at", "撤回日時"),
        ],
    ),
    "provision_records": (
        "第三者提供記録.csv",
        "第三者提供記録（個人情報保護法第29条・第30条）",
        [
            ("id", "ID"),
            ("direction", "提供／受領"),
            ("provided_on", "提供日"),
            ("provider", "提供元"),
            ("recipient", "提供先"),
            ("company", "企業等"),
            ("items_shared", "提供した項目"),
            ("consent", "同意ID"),
            ("referral", "紹介ID"),
        ],
    ),
    "mentions": (
        "記録中の記載.csv",
        "記録中の本人に関する記載",
        [
            ("record", "記録の種類"),
            ("id", "記録ID"),
            ("field", "項目"),
            ("text", "記載内容"),
        ],
    ),
}


def _contact_for(actor: Actor, params: dict) -> Contact:
    contact = contacts_visible_to(actor).filter(pk=params.get("contact")).first()
    if contact is None:
        raise ValidationFailed(_("担当者が見つかりません。"), field="contact")
    return contact


def disclosure_check(*, actor: Actor, fiscal_year: int, params: dict) -> dict:
    """Keep the contact id; only org admins who may see the contact may ask."""
    contact_id = params.get("contact")
    if not isinstance(contact_id, int) or isinstance(contact_id, bool):
        raise ValidationFailed(
            _("担当者（contact）を ID で指定してください。"), field="contact"
        )
    contact = _contact_for(actor, {"contact": contact_id})
    contact_require_disclosable(actor, contact)
    return {"contact": contact_id}


def disclosure_build(
    *, export: Export, actor: Actor, path: Path, progress
) -> WriteResult:
    """Write the disclosure package (ZIP) of export.params["contact"] to path."""
    contact = _contact_for(actor, export.params or {})
    sections = person_disclosure(actor, contact)
    progress(30)
    package = {
        "title": _("保有個人データの開示（個人情報保護法第33条）"),
        "created_at": timezone.localtime().isoformat(),
        "organisation": export.organisation.name,
        "contact": contact.pk,
        "sections": {
            key: {"title": SECTIONS[key][1], "rows": rows}
            for key, rows in sections.items()
        },
    }
    rows_total = 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr(
            "disclosure.json", json.dumps(package, ensure_ascii=False, indent=2)
        )
        for n, (key, (filename, _title, fields)) in enumerate(SECTIONS.items()):
            rows = sections.get(key, [])
            rows_total += len(rows)
            target = Path(tmp) / f"{key}.csv"
            write_csv(
                target,
                [Column(header, TEXT) for _key, header in fields],
                ([row.get(k, "") for k, _header in fields] for row in rows),
                encoding="utf-8-sig",
            )
            archive.write(target, filename)
            progress(30 + 60 * (n + 1) // len(SECTIONS))
    return WriteResult(row_count=rows_total)


def register() -> None:
    """Register the `disclosure` export kind (called from CrmConfig.ready)."""
    export_kind_register(
        "disclosure",
        None,
        check=disclosure_check,
        formats=("zip",),
        builder=disclosure_build,
    )
