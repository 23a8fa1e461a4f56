"""Bringing history in: importing 相談記録 from Excel or CSV (DESIGN.md, API.md).

An import goes upload → dry run (`import_validate`: every row checked, the
report stored, nothing else written) → commit (`import_commit`, a Celery job:
the valid rows written through `company_create` and `consultation_create`,
in batches, so facts, 初回 marks, follow-ups and audit are those of a typed
entry) → undo (`import_undo`: everything it created removed while none of it
was changed since). Every record it creates carries `import_id` and
`source_line`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import (
    Case,
    Company,
    Consent,
    Consultation,
    ConsultationIpType,
    ConsultationTopic,
    Contact,
    FollowUp,
    Import,
    ImportMapping,
    Outcome,
    Referral,
)
from crm.permissions import import_require_permitted
from crm.rules.import_values import IMPORT_FIELDS
from crm.services.audit import audit_record, audit_record_many
from crm.services.companies import (
    company_create,
    company_derive_keys,
    company_validate,
)
from crm.services.consultations import company_first_consultation_refresh
from crm.services.import_rows import (
    CompanyMatcher,
    ImportFileError,
    RowChecked,
    company_fields,
    file_format,
    file_rows,
    headers_resolve,
    mapping_check,
)
from crm.statistics.facts import consultation_facts_refresh
from support_network.actors import Actor
from support_network.calendar import fiscal_year, local_date
from support_network.errors import Conflict, DomainError, ValidationFailed
from support_network.models import Membership

# The report keeps this many errors, duplicates and companies (counts are exact).
IMPORT_MAX_ERRORS = 1000
IMPORT_MAX_LISTED = 1000
# A committing import whose worker has not written for this long lost it.
IMPORT_HEARTBEAT_STALE = timedelta(minutes=2)


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
            for chunk in _chunks(records, mapping, imp, matcher, now):
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


def _chunks(records, mapping, imp: Import, matcher: CompanyMatcher, now: datetime):
    from crm.services.import_rows import rows_checked

    return rows_checked(
        records,
        mapping,
        organisation=imp.organisation,
        matcher=matcher,
        today=local_date(now),
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


def _claim(import_id: int, now: datetime) -> bool:
    """Take the commit; a second delivery while a worker writes gets nothing."""
    return (
        Import.objects.filter(pk=import_id, status=Import.Status.COMMITTING)
        .filter(
            Q(heartbeat_at__isnull=True)
            | Q(heartbeat_at__lt=now - IMPORT_HEARTBEAT_STALE)
        )
        .update(heartbeat_at=now, started_at=now)
        == 1
    )


class _Writer:
    """Writes an import's valid rows through the services, one batch at a time."""

    def __init__(self, imp: Import, now: datetime | None) -> None:
        self.imp = imp
        self.now = now
        requester = (
            Membership.objects.filter(
                user=imp.requested_by,
                organisation=imp.organisation,
                is_active=True,
            )
            .select_related("organisation", "user")
            .first()
        )
        if requester is None:
            raise ValidationFailed(
                _("取込を依頼したユーザーはこの組織の有効なメンバーではありません。"),
                code="import_requester_gone",
            )
        self.requester = Actor(user=requester.user, membership=requester)
        self.actors: dict[int, Actor] = {}
        self.actor_by_user: dict[int, Actor] = {self.requester.user.pk: self.requester}
        self.new_companies: dict[tuple, int] = {}
        # company id → case the import opened for it (resumed from the tags).
        self.cases: dict[int, int] = dict(
            Case.objects.filter(import_id=imp.pk).values_list("company_id", "pk")
        )
        self.created = {
            "companies": 0,
            "cases": 0,
            "consultations": 0,
            "follow_ups": 0,
            **(imp.created or {}),
        }
        self.errors: list[dict[str, Any]] = list(imp.errors or [])
        self.reported = {(e["line"], e["field"]) for e in self.errors}
        self.error_count = imp.error_count

    def actor_for(self, membership_id: int | None) -> Actor:
        if membership_id is None:
            return self.requester
        if membership_id not in self.actors:
            member = Membership.objects.select_related("organisation", "user").get(
                pk=membership_id
            )
            self.actors[membership_id] = Actor(user=member.user, membership=member)
            self.actor_by_user[member.user_id] = self.actors[membership_id]
        return self.actors[membership_id]

    def company_id(self, row: RowChecked) -> int:
        if row.company_id:
            return row.company_id
        key = row.company_key
        if key not in self.new_companies:
            try:
                company = company_create(
                    actor=self.requester,
                    today=local_date(self.now) if self.now else None,
                    **company_fields(row.values),
                )
            except Conflict as exc:  # registered meanwhile (a race)
                if not exc.extra.get("existing"):
                    raise
                self.new_companies[key] = exc.extra["existing"]
            else:
                Company.objects.filter(pk=company.pk).update(
                    import_id=self.imp.pk, source_line=row.line
                )
                self.created["companies"] += 1
                self.new_companies[key] = company.pk
        return self.new_companies[key]

    @transaction.atomic
    def batch(self, rows: list[RowChecked], processed: int, total: int) -> None:
        """Write one batch of valid rows as consultation_create would, in bulk.

        The same records as a typed entry (consultation_create): a case per
        company (one per import), the consultation with its topics and IP
        types, its follow-up, the 初回 mark (earliest occurred_at; a tie
        keeps the earlier record) and statistics facts, and the audit
        events; a few statements per batch instead of ~14 per row.
        """
        self._companies_register(rows)
        valid = []
        for row in rows:
            if not row.is_valid:
                # Reported by the dry run, or refused only now (a member
                # deactivated, a date now in the future): reported either way.
                for error in row.errors:
                    if (error["line"], error["field"]) not in self.reported:
                        self.reported.add((error["line"], error["field"]))
                        self.error_count += 1
                        if len(self.errors) < IMPORT_MAX_ERRORS:
                            self.errors.append(error)
                continue
            try:
                if not row.company_id:
                    row.company_id = self.new_companies.get(row.company_key)
                if not row.company_id:
                    with transaction.atomic():  # only a new company is written
                        row.company_id = self.company_id(row)
            except DomainError as exc:
                self._error(row, exc)
                continue
            valid.append(row)
        if not valid:
            self._progress(processed, total)
            return
        # Lock the companies as consultation_create does; refuse merged ones.
        merged = dict(
            Company.objects.select_for_update(no_key=True)
            .filter(pk__in={r.company_id for r in valid})
            .order_by("pk")
            .values_list("pk", "merged_into_id")
        )
        for row in [r for r in valid if merged.get(r.company_id)]:
            self._error(
                row,
                Conflict(
                    _(
                        "この企業等は別の企業等に統合されています。"
                        "統合後の企業等に登録してください。"
                    ),
                    field="company_name",
                ),
            )
        valid = [r for r in valid if not merged.get(r.company_id)]
        names = dict(
            Company.objects.filter(pk__in={r.company_id for r in valid}).values_list(
                "pk", "name"
            )
        )
        # A case per company, opened by its first row.
        opened: set[int] = set()
        new_cases: list[Case] = []
        for row in valid:
            if row.company_id in self.cases or row.company_id in opened:
                continue
            opened.add(row.company_id)
            actor = self.actor_for(row.values["membership_id"])
            new_cases.append(
                Case(
                    company_id=row.company_id,
                    organisation=actor.organisation,
                    title=(
                        _("%(company)s の相談") % {"company": names[row.company_id]}
                    )[:200],
                    assignee=actor.user,
                    created_by=actor.user,
                    opened_on=row.values["occurred_on"],
                    import_id=self.imp.pk,
                    source_line=row.line,
                )
            )
        Case.objects.bulk_create(new_cases)
        for case in new_cases:
            self.cases[case.company_id] = case.pk
        consultations = []
        for row in valid:
            v = row.values
            actor = self.actor_for(v["membership_id"])
            consultations.append(
                Consultation(
                    case_id=self.cases[row.company_id],
                    company_id=row.company_id,
                    organisation=actor.organisation,
                    author=actor.user,
                    occurred_at=v["occurred_at"],
                    occurred_on=v["occurred_on"],
                    fiscal_year=fiscal_year(v["occurred_at"]),
                    channel=v["channel"],
                    duration_minutes=v["duration_minutes"],
                    summary=v["summary"].strip(),
                    advice=v["advice"].strip(),
                    next_action=v["next_action"].strip()[:200],
                    is_company_first=False,
                    import_id=self.imp.pk,
                    source_line=row.line,
                )
            )
        Consultation.objects.bulk_create(consultations)
        ConsultationTopic.objects.bulk_create(
            ConsultationTopic(consultation_id=c.pk, topic=t)
            for c, row in zip(consultations, valid, strict=True)
            for t in dict.fromkeys(row.values["topics"])
        )
        ConsultationIpType.objects.bulk_create(
            ConsultationIpType(consultation_id=c.pk, ip_type=t)
            for c, row in zip(consultations, valid, strict=True)
            for t in dict.fromkeys(row.values["ip_types"])
        )
        follow_ups = [
            FollowUp(
                case_id=c.case_id,
                consultation_id=c.pk,
                organisation_id=c.organisation_id,
                assignee_id=c.author_id,
                due_on=row.values["follow_up_on"],
                note=(row.values["next_action"] or row.values["summary"]).strip()[:200],
                import_id=self.imp.pk,
                source_line=row.line,
            )
            for c, row in zip(consultations, valid, strict=True)
            if row.values["follow_up_on"] is not None
        ]
        FollowUp.objects.bulk_create(follow_ups)
        unmarked = self._firsts_mark(consultations)
        consultation_facts_refresh(
            consultation_ids=[c.pk for c in consultations], new=True
        )
        if unmarked:
            consultation_facts_refresh(consultation_ids=unmarked)
        for user_id, group in _by_actor(consultations, new_cases):
            actor = self.actor_by_user[user_id]
            audit_record_many(
                actor=actor, action="case.open", objs=group["cases"], now=self.now
            )
            audit_record_many(
                actor=actor,
                action="consultation.create",
                objs=group["consultations"],
                now=self.now,
            )
        self.created["cases"] += len(new_cases)
        self.created["consultations"] += len(consultations)
        self.created["follow_ups"] += len(follow_ups)
        self._progress(processed, total)

    def _companies_register(self, rows: list[RowChecked]) -> None:
        """Register the batch's new companies as company_create does, in bulk.

        The same checks (`company_validate`), derived keys
        (`company_derive_keys`) and audit events; a 法人番号 registered
        meanwhile is used instead. Should the INSERT still meet a duplicate
        (a race), each company goes through company_create on its own.
        """
        pending: dict[tuple, RowChecked] = {}
        for row in rows:
            if (
                row.is_valid
                and not row.company_id
                and row.company_key not in self.new_companies
            ):
                pending.setdefault(row.company_key, row)
        if not pending:
            return
        today = local_date(self.now) if self.now else timezone.localdate()
        numbers = [r.values["corporate_number"] for r in pending.values()]
        taken = dict(
            Company.objects.filter(
                corporate_number__in=[n for n in numbers if n]
            ).values_list("corporate_number", "pk")
        )
        companies: list[Company] = []
        for key, row in list(pending.items()):
            fields = company_fields(row.values)
            if fields["corporate_number"] in taken:
                self.new_companies[key] = taken[fields["corporate_number"]]
                del pending[key]
                continue
            company = Company(
                corporate_number=fields["corporate_number"],
                name=fields["name"],
                name_kana=fields["name_kana"],
                kind=fields["kind"],
                prefecture_id=fields["prefecture"],
                registered_by=self.requester.organisation,
                import_id=self.imp.pk,
                source_line=row.line,
            )
            try:
                company_validate(company, today=today)
            except DomainError:
                del pending[key]  # company_create will report it for the row
                continue
            company_derive_keys(company)
            companies.append(company)
        try:
            with transaction.atomic():
                Company.objects.bulk_create(companies)
        except IntegrityError:
            return  # a concurrent registration: one at a time (company_id)
        for key, company in zip(pending, companies, strict=True):
            self.new_companies[key] = company.pk
        self.created["companies"] += len(companies)
        audit_record_many(
            actor=self.requester, action="company.create", objs=companies, now=self.now
        )

    def _firsts_mark(self, consultations: list[Consultation]) -> list[int]:
        """Mark each company's first consultation; return the ids unmarked."""
        earliest: dict[int, Consultation] = {}
        for c in consultations:  # file order: a tie keeps the earlier row
            best = earliest.get(c.company_id)
            if best is None or c.occurred_at < best.occurred_at:
                earliest[c.company_id] = c
        current = {
            company_id: (pk, at)
            for pk, company_id, at in Consultation.objects.filter(
                company_id__in=list(earliest), is_company_first=True
            )
            .exclude(pk__in=[c.pk for c in consultations])
            .values_list("pk", "company_id", "occurred_at")
        }
        marked, unmarked = [], []
        for company_id, c in earliest.items():
            first = current.get(company_id)
            if first is None or c.occurred_at < first[1]:
                marked.append(c.pk)
                c.is_company_first = True
                if first is not None:
                    unmarked.append(first[0])
        if unmarked:
            Consultation.objects.filter(pk__in=unmarked).update(is_company_first=False)
        if marked:
            Consultation.objects.filter(pk__in=marked).update(is_company_first=True)
        return unmarked

    def _error(self, row: RowChecked, exc: DomainError) -> None:
        self.error_count += 1
        if len(self.errors) < IMPORT_MAX_ERRORS:
            self.errors.append(
                {"line": row.line, "field": exc.field or "row", "message": exc.detail}
            )

    def _progress(self, processed: int, total: int) -> None:
        Import.objects.filter(pk=self.imp.pk).update(
            processed_rows=processed,
            progress=min(99, processed * 100 // max(total, 1)),
            heartbeat_at=timezone.now(),
            created=self.created,
            errors=self.errors,
            error_count=self.error_count,
        )


def _by_actor(consultations: list[Consultation], cases: list[Case]):
    """Group new records by the member who wrote them (their audit actor)."""
    groups: dict[int, dict[str, list]] = {}
    for c in consultations:
        groups.setdefault(c.author_id, {"cases": [], "consultations": []})[
            "consultations"
        ].append(c)
    for case in cases:
        groups.setdefault(case.created_by_id, {"cases": [], "consultations": []})[
            "cases"
        ].append(case)
    return groups.items()


def import_commit(*, import_id: int, now: datetime | None = None) -> dict:
    """Write an import's valid rows in batches (the body of `crm.import_commit`).

    Idempotent: only the call that claims the import writes, and a commit
    taken over after a lost worker resumes after the last finished batch.
    """
    claimed_at = timezone.now()
    if not _claim(import_id, claimed_at):
        return {"import": import_id, "claimed": False}
    imp = Import.objects.select_related("organisation", "requested_by").get(
        pk=import_id
    )
    try:
        writer = _Writer(imp, now)
        _headers, records = file_rows(bytes(imp.content))
        mapping = {h: f for h, f in imp.mapping.items() if f}
        matcher = CompanyMatcher()
        processed = 0
        for chunk in _chunks(records, mapping, imp, matcher, now or claimed_at):
            processed += len(chunk)
            if processed <= imp.processed_rows:
                continue  # written before the worker was lost
            writer.batch(chunk, processed, imp.rows)
    except (ImportFileError, ValidationFailed) as exc:
        Import.objects.filter(pk=imp.pk).update(
            status=Import.Status.FAILED, failure=exc.detail
        )
        return {"import": imp.pk, "claimed": True, "status": "failed"}
    Import.objects.filter(pk=imp.pk).update(
        status=Import.Status.COMMITTED,
        progress=100,
        committed_at=timezone.now(),
        created=writer.created,
    )
    return {"import": imp.pk, "claimed": True, "status": "committed", **writer.created}


def _changed_since(imp: Import) -> bool:
    """Return whether anything the import created was changed or built upon."""
    at = imp.committed_at
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
    if imp.status != Import.Status.COMMITTED:
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
