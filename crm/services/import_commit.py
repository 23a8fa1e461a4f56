"""Committing an import: its valid rows written in batches (`crm.import_commit`).

The records a typed entry gets (crm/services/consultations.py
`consultation_create`, crm/services/companies.py `company_create`), written
in bulk a batch at a time: a company, one case per company per import, the
consultation with its topics and IP types, its follow-up, the 初回 mark,
the statistics facts and the audit events, each tagged with the import's id
and its source line. Idempotent: only the call that claims the import
writes, and a commit taken over after a lost worker resumes after the last
batch written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import (
    Case,
    Company,
    Consultation,
    ConsultationIpType,
    ConsultationTopic,
    FollowUp,
    Import,
)
from crm.services.audit import audit_record_many
from crm.services.companies import (
    company_create,
    company_derive_keys,
    company_validate,
)
from crm.services.import_files import ImportFileError, file_rows
from crm.services.import_rows import CompanyMatcher, RowChecked, company_fields
from crm.services.imports import IMPORT_MAX_ERRORS, import_rows_checked
from crm.statistics.facts import consultation_facts_refresh
from support_network.actors import Actor
from support_network.calendar import fiscal_year, local_date
from support_network.errors import Conflict, DomainError, ValidationFailed
from support_network.models import Membership

# A committing import whose worker has not written for this long lost it.
IMPORT_HEARTBEAT_STALE = timedelta(minutes=2)


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
        for chunk in import_rows_checked(
            records, mapping, imp, matcher, now or claimed_at, duplicates=False
        ):
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
