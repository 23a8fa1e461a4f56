"""Bringing history in: importing 相談記録 from Excel or CSV (DESIGN.md, API.md).

An import goes upload → dry run (`import_validate`: every row checked, the
report stored, nothing else written) → commit (`import_commit_request`
queues `crm.import_commit`, whose body is crm/services/import_commit.py: the
valid rows written in batches with the records a typed entry gets: facts,
初回 marks, follow-ups, audit) → undo (`import_undo`: everything it created
removed while none of it was changed since). Every record it creates
carries `import_id` and `source_line`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import (
    Case,
    Company,
    Consent,
    Consultation,
    Contact,
    FollowUp,
    Import,
    ImportMapping,
    Outcome,
    Referral,
)
from crm.permissions import import_require_permitted
from crm.rules.import_values import IMPORT_FIELDS
from crm.services.audit import audit_record
from crm.services.consultations import company_first_consultation_refresh
from crm.services.import_files import ImportFileError, file_format, file_rows
from crm.services.import_rows import (
    CompanyMatcher,
    RowChecked,
    headers_resolve,
    mapping_check,
)
from support_network.actors import Actor
from support_network.calendar import local_date
from support_network.errors import Conflict, ValidationFailed

# The report keeps this many errors, duplicates and companies (counts are exact).
IMPORT_MAX_ERRORS = 1000
IMPORT_MAX_LISTED = 1000


def _enqueue_after_commit(task_name: str, import_id: int) -> None:
    from crm import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(
        lambda: tasks.enqueue(task, what=f"import {import_id}", import_id=import_id)
    )


def _mapping_clean(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValidationFailed(
            _("列の対応は {列の見出し: 項目} の形で指定してください。"),
            field="mapping",
        )
    clean: dict[str, str] = {}
    for header, name in mapping.items():
        name = str(name or "")
        if name and name not in IMPORT_FIELDS:
            raise ValidationFailed(
                _("取込できない項目名です: %(name)s") % {"name": name},
                field="mapping",
            )
        clean[str(header)] = name
    return clean


def _mapping_remember(actor: Actor, kind: str, mapping: Mapping[str, str]) -> None:
    if not mapping:
        return
    remembered, _created = ImportMapping.objects.get_or_create(
        organisation=actor.organisation, kind=kind
    )
    remembered.mapping = {**remembered.mapping, **mapping}
    remembered.save()


def import_mapping_remembered(
    *, organisation_id: int, kind: str = Import.Kind.CONSULTATIONS
) -> dict:
    """Return the organisation's remembered {header: field}."""
    found = ImportMapping.objects.filter(
        organisation_id=organisation_id, kind=kind
    ).first()
    return dict(found.mapping) if found else {}


@transaction.atomic
def import_upload(
    *,
    actor: Actor,
    file_name: str,
    content: bytes,
    kind: str = Import.Kind.CONSULTATIONS,
    mapping: Mapping[str, Any] | None = None,
    queue: bool = True,
    now: datetime | None = None,
) -> Import:
    """Store an uploaded file and queue its dry run; nothing else is written.

    `queue=False` leaves the dry run to the caller (the command runs
    `import_validate` itself).
    """
    import_require_permitted(actor)
    if kind not in Import.Kind.values:
        raise ValidationFailed(_("取込の種類が正しくありません。"), field="kind")
    if not content:
        raise ValidationFailed(_("ファイルが空です。"), field="file")
    given = _mapping_clean(mapping)
    try:
        fmt = file_format(content)
        file_rows(content)  # size and header row, at once
    except ImportFileError as exc:
        raise ValidationFailed(exc.detail, field="file") from exc
    _mapping_remember(actor, kind, given)
    imp = Import.objects.create(
        organisation=actor.organisation,
        requested_by=actor.user,
        kind=kind,
        file_name=(file_name or "upload")[:200],
        file_format=fmt,
        content=content,
        mapping=given,
        created_at=now or timezone.now(),
    )
    audit_record(
        actor=actor,
        action="import.upload",
        obj=imp,
        now=now,
        data={"file_name": imp.file_name, "bytes": len(content)},
    )
    if queue:
        _enqueue_after_commit("import_validate_task", imp.pk)
    return imp


@transaction.atomic
def import_remap(*, actor: Actor, imp: Import, mapping: Mapping[str, Any]) -> Import:
    """Check the file again with the columns mapped as given (the mapping screen)."""
    import_require_permitted(actor)
    given = _mapping_clean(mapping)
    updated = Import.objects.filter(
        pk=imp.pk, status__in=[Import.Status.READY, Import.Status.FAILED]
    ).update(status=Import.Status.VALIDATING, mapping=given, progress=0)
    if updated != 1:
        raise Conflict(
            _("この取込は確認中か取込済みのため、列の対応を変更できません。"),
            code="import_not_ready",
        )
    _mapping_remember(actor, imp.kind, given)
    _enqueue_after_commit("import_validate_task", imp.pk)
    imp.refresh_from_db()
    return imp


def _listed(items: list, item: Any) -> None:
    if len(items) < IMPORT_MAX_LISTED:
        items.append(item)


def import_validate(*, import_id: int, now: datetime | None = None) -> dict:
    """Run the dry run of an import and store its report (idempotent).

    Every row is parsed and checked with the services' rules, companies are
    matched, likely duplicates flagged. Only the Import row is written.
    """
    now = now or timezone.now()
    imp = Import.objects.filter(pk=import_id).first()
    if imp is None or imp.status != Import.Status.VALIDATING:
        return {"import": import_id, "validated": False}
    content = bytes(imp.content)
    given = {
        **import_mapping_remembered(organisation_id=imp.organisation_id, kind=imp.kind),
        **imp.mapping,
    }
    report: dict[str, Any] = {
        "rows": 0,
        "valid_rows": 0,
        "errors": [],
        "error_count": 0,
        "duplicates": [],
    }
    matcher = CompanyMatcher()
    try:
        headers, records = file_rows(content)
        mapping, unknown = headers_resolve(headers, given)
        file_errors = mapping_check(mapping)
        report["mapping"] = {h: mapping.get(h, "") for h in headers if h}
        report["unknown_headers"] = unknown
        if file_errors:
            report["errors"] = file_errors
            report["error_count"] = len(file_errors)
        else:
            for chunk in import_rows_checked(records, mapping, imp, matcher, now):
                _report_add(report, chunk)
    except ImportFileError as exc:
        Import.objects.filter(pk=imp.pk).update(
            status=Import.Status.FAILED,
            failure=exc.detail,
            errors=[{"line": 0, "field": "file", "message": exc.detail}],
            error_count=1,
            validated_at=now,
        )
        return {"import": imp.pk, "validated": False}
    companies = list(matcher.summary.values())
    Import.objects.filter(pk=imp.pk, status=Import.Status.VALIDATING).update(
        status=Import.Status.READY,
        mapping=report.get("mapping", {}),
        unknown_headers=report.get("unknown_headers", []),
        rows=report["rows"],
        valid_rows=report["valid_rows"],
        errors=report["errors"],
        error_count=report["error_count"],
        duplicates=report["duplicates"],
        companies=companies[:IMPORT_MAX_LISTED],
        companies_matched=sum(1 for c in companies if c["match"] != "new"),
        companies_new=sum(1 for c in companies if c["match"] == "new"),
        progress=0,
        validated_at=now,
        failure="",
    )
    return {"import": imp.pk, "validated": True, "rows": report["rows"]}


def import_rows_checked(
    records,
    mapping,
    imp: Import,
    matcher: CompanyMatcher,
    now: datetime,
    *,
    duplicates: bool = True,
):
    """Return the file's rows checked for this import (dry run and commit)."""
    from crm.services.import_rows import rows_checked

    return rows_checked(
        records,
        mapping,
        organisation=imp.organisation,
        matcher=matcher,
        today=local_date(now),
        duplicates=duplicates,
    )


def _report_add(report: dict[str, Any], chunk: list[RowChecked]) -> None:
    for row in chunk:
        report["rows"] += 1
        if row.is_valid:
            report["valid_rows"] += 1
            if row.duplicate_of:
                _listed(
                    report["duplicates"],
                    {"line": row.line, "consultation": row.duplicate_of},
                )
        else:
            report["error_count"] += len(row.errors)
            for error in row.errors:
                if len(report["errors"]) < IMPORT_MAX_ERRORS:
                    report["errors"].append(error)


@transaction.atomic
def import_commit_request(
    *, actor: Actor, imp: Import, queue: bool = True, now: datetime | None = None
) -> Import:
    """Queue the commit of a checked import (202); 409 when it is not ready."""
    import_require_permitted(actor)
    updated = Import.objects.filter(
        pk=imp.pk, status=Import.Status.READY, valid_rows__gt=0
    ).update(status=Import.Status.COMMITTING, progress=0, processed_rows=0)
    if updated != 1:
        raise Conflict(
            _("取り込める行がないか、この取込は既に取込中・取込済みです。"),
            code="import_not_ready",
        )
    audit_record(actor=actor, action="import.commit", obj=imp, now=now)
    if queue:
        _enqueue_after_commit("import_commit_task", imp.pk)
    imp.refresh_from_db()
    return imp


def _changed_since(imp: Import) -> bool:
    """Return whether anything the import created was changed or built upon."""
    # The last write of the commit (a failed one has no committed_at).
    at = imp.committed_at or imp.heartbeat_at
    mine = {"import_id": imp.pk}
    created = imp.created or {}
    if Consultation.objects.filter(**mine).count() != created.get("consultations", 0):
        return True  # one was voided
    if FollowUp.objects.filter(**mine).count() != created.get("follow_ups", 0):
        return True
    checks = [
        Company.objects.filter(**mine, updated_at__gt=at),
        Company.objects.filter(**mine, merged_into__isnull=False),
        Company.objects.filter(merged_into__import_id=imp.pk),
        Case.objects.filter(**mine, updated_at__gt=at),
        Case.objects.filter(company__import_id=imp.pk).exclude(**mine),
        Consultation.objects.filter(**mine, updated_at__gt=at),
        Consultation.objects.filter(case__import_id=imp.pk).exclude(**mine),
        FollowUp.objects.filter(**mine, updated_at__gt=at),
        FollowUp.objects.filter(**mine, done_at__isnull=False),
        FollowUp.objects.filter(**mine, consultation__isnull=True),
        FollowUp.objects.filter(case__import_id=imp.pk).exclude(**mine),
        Outcome.objects.filter(case__import_id=imp.pk),
        Referral.objects.filter(case__import_id=imp.pk),
        Contact.objects.filter(company__import_id=imp.pk),
        Consent.objects.filter(company__import_id=imp.pk),
    ]
    return any(qs.exists() for qs in checks)


# Rows deleted at a time by undo: the ORM's cascade collector holds them.
UNDO_CHUNK_ROWS = 2000


def _delete_in_chunks(model, import_id: int) -> int:
    """Delete the rows an import created, a chunk at a time (bounded memory)."""
    count = 0
    while True:
        pks = list(
            model.objects.filter(import_id=import_id).values_list("pk", flat=True)[
                :UNDO_CHUNK_ROWS
            ]
        )
        if not pks:
            return count
        model.objects.filter(pk__in=pks).delete()
        count += len(pks)


@transaction.atomic
def import_undo(*, actor: Actor, imp: Import, now: datetime | None = None) -> Import:
    """Remove everything an import created; 409 import_changed if any was changed.

    The companies that had consultations before keep them, and their first
    consultation (初回) and statistics facts are computed again, so counts
    and statistics are exactly those before the import.
    """
    import_require_permitted(actor)
    imp = Import.objects.select_for_update().get(pk=imp.pk)
    # A commit that failed half-way is undone like a finished one.
    failed_half_way = imp.status == Import.Status.FAILED and imp.started_at is not None
    if imp.status != Import.Status.COMMITTED and not failed_half_way:
        raise Conflict(
            _("取込済みの取込だけを取り消せます。"), code="import_not_committed"
        )
    # Hold the import's cases while checking, so no one adds to them meanwhile.
    list(Case.objects.filter(import_id=imp.pk).select_for_update().values_list("pk"))
    if _changed_since(imp):
        raise Conflict(
            _(
                "この取込で作成した記録がその後変更されたため、取り消せません。"
                "変更した記録を確認してください。"
            ),
            code="import_changed",
        )
    matched = sorted(
        set(
            Consultation.objects.filter(import_id=imp.pk)
            .exclude(company__import_id=imp.pk)
            .values_list("company_id", flat=True)
        )
    )
    removed = {
        name: _delete_in_chunks(model, imp.pk)
        for name, model in (
            ("follow_ups", FollowUp),
            ("consultations", Consultation),
            ("cases", Case),
            ("companies", Company),
        )
    }
    if matched:
        company_first_consultation_refresh(company_ids=matched)
    now = now or timezone.now()
    Import.objects.filter(pk=imp.pk).update(status=Import.Status.UNDONE, undone_at=now)
    audit_record(actor=actor, action="import.undo", obj=imp, now=now, data=removed)
    imp.refresh_from_db()
    return imp
