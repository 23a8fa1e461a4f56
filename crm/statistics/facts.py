"""Statistics facts: keep `ConsultationFact` in step with the consultations.

`crm.statistics.consultations` reads consultation measures from `ConsultationFact`, one row
per consultation and topic with the dimensions it groups by already on the
row (the handling organisation's prefecture, region and kind; month; channel)
so that a national fiscal year aggregates from one index without joins.

Every write that changes what a fact holds calls one function here, in the
same transaction, so statistics are never stale:
- `consultation_facts_refresh(consultation_ids=…)`: a consultation was
  created or edited (topics, date, company, organisation, minutes), or its
  company's first-consultation mark moved (back-dated entry, merge);
- `organisation_facts_refresh(ids)`: an organisation's prefecture, region
  or kind changed (admin, seeds, through support_network's hook);
- `yorozu_link_marks_refresh(case_ids=…)`: a referral between an INPIT 窓口
  and a よろず拠点 was sent, cancelled or edited, which makes the case's
  consultations よろず連携 or not;
- `consultation_facts_refresh()`: everything (bulk loads, the migration,
  `manage.py statistics_facts_rebuild`).
The rows are built by one INSERT … SELECT compiled from a queryset (so the
same code serves SQLite and PostgreSQL, one row or five million); the same
SELECT picks each consultation's primary row and its よろず連携 mark,
so rows are written once and never updated.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

from django.db import connections, router
from django.db.models import (
    BooleanField,
    Case,
    F,
    Func,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractMonth,
    ExtractYear,
    RowNumber,
)

from crm.choices import NO_TOPIC_NUMBER, TOPIC_NUMBERS
from crm.models import Consultation, ConsultationFact
from crm.statistics.consultations import yorozu_link_q

_CHUNK = 500


class TopicNumber(Func):
    """The topic's number (crm.choices.TOPIC_NUMBERS) in one simple CASE.

    Written out rather than as eighteen When(...) clauses, which the ORM
    resolves one by one each time a consultation is logged.
    """

    output_field = PositiveSmallIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        topic, params = compiler.compile(self.source_expressions[0])
        whens = " ".join("WHEN %s THEN %s" for _ in TOPIC_NUMBERS)
        pairs = [v for t, n in TOPIC_NUMBERS.items() for v in (str(t), n)]
        return f"CASE {topic} {whens} ELSE %s END", [*params, *pairs, NO_TOPIC_NUMBER]


# Fact column ← consultation expression (topics joined: one row per topic).
_COLUMNS = {
    "consultation_id": F("pk"),
    "company_id": F("company_id"),
    "organisation_id": F("organisation_id"),
    "prefecture_no": Cast("organisation__prefecture_id", PositiveSmallIntegerField()),
    "region_id": Coalesce(
        F("organisation__prefecture__region_id"),
        F("organisation__region_id"),
        Value(""),
    ),
    "organisation_kind": F("organisation__kind"),
    "fiscal_year": F("fiscal_year"),
    "month": ExtractYear("occurred_on") * 100 + ExtractMonth("occurred_on"),
    "channel": F("channel"),
    "topic_no": TopicNumber("topics__topic"),
    "is_company_first": F("is_company_first"),
    "minutes": F("duration_minutes"),
}


@cache  # built once: the ORM copies expressions when it resolves them
def _source_columns() -> dict[str, Any]:
    """Return every written column: _COLUMNS, the よろず連携 mark and the rank.

    `rank` numbers a consultation's rows (by topic); the first is the
    primary row. Both are computed in the same SELECT, so the rows are
    written once and never updated (an UPDATE would leave a dead copy of
    every row and a second entry in every index).
    """
    return {
        **_COLUMNS,
        "is_yorozu_link": Case(
            When(yorozu_link_q(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        "rank": Window(
            RowNumber(), partition_by=[F("pk")], order_by=F("topics__topic").asc()
        ),
    }


def consultation_facts_refresh(
    *,
    consultation_ids: Iterable[int] | None = None,
    organisation_ids: Iterable[int] | None = None,
    new: bool = False,
) -> int:
    """Rewrite the facts of the given consultations (all when none given).

    `new=True` says the consultations were just created and have no facts
    yet (nothing to delete). Returns the number of fact rows written. Call
    it inside the transaction that changed the consultations.
    """
    if organisation_ids is not None:
        organisation_ids = list(organisation_ids)
        if not organisation_ids:
            return 0
    if consultation_ids is not None:
        ids = list(consultation_ids)
        if len(ids) > _CHUNK:  # SQLite caps the parameters of a statement
            return sum(
                consultation_facts_refresh(
                    consultation_ids=ids[i : i + _CHUNK],
                    organisation_ids=organisation_ids,
                    new=new,
                )
                for i in range(0, len(ids), _CHUNK)
            )
        if not ids:
            return 0
        consultation_ids = ids
    db = router.db_for_write(ConsultationFact)
    table = ConsultationFact._meta.db_table
    if organisation_ids is None and consultation_ids is not None:
        # The common case (a consultation logged or edited): plain SQL, and
        # the INSERT compiled once per process for each number of ids.
        with connections[db].cursor() as cursor:
            if not new:
                marks = ", ".join(["%s"] * len(consultation_ids))
                cursor.execute(
                    f"DELETE FROM {table} WHERE consultation_id IN ({marks})",
                    consultation_ids,
                )
            sql, params, positions = _insert_for_ids(db, len(consultation_ids))
            params = list(params)
            for position, consultation_id in zip(
                positions, consultation_ids, strict=True
            ):
                params[position] = consultation_id
            cursor.execute(sql, params)
            return cursor.rowcount

    condition = Q()
    if consultation_ids is not None:
        condition &= Q(pk__in=consultation_ids)
    if organisation_ids is not None:
        condition &= Q(organisation_id__in=organisation_ids)
    # The facts of the consultations concerned (all of them without a condition).
    if condition:
        facts = ConsultationFact.objects.filter(
            consultation__in=Consultation.objects.filter(condition).values("pk")
        )
    else:
        facts = ConsultationFact.objects.all()
    if not new:
        facts.delete()
    sql, params = _insert_statement(db, condition)
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _insert_statement(db: str, condition: Q) -> tuple[str, tuple]:
    """Return the INSERT … SELECT of the facts of the consultations matching."""
    columns = _source_columns()
    source = (
        Consultation.objects.filter(condition)
        .annotate(**{f"f_{name}": expr for name, expr in columns.items()})
        .values(*[f"f_{name}" for name in columns])
        # In consultation order: a fiscal year's rows then sit together in
        # the table, as they do when consultations are logged day by day.
        .order_by("pk")
    )
    sql, params = source.query.get_compiler(using=db).as_sql()
    table = ConsultationFact._meta.db_table
    written_columns = [name for name in columns if name != "rank"]
    selected = ", ".join(f"t.f_{name}" for name in written_columns)
    return (
        f"INSERT INTO {table} ({', '.join(written_columns)}, is_primary) "
        f"SELECT {selected}, t.f_rank = 1 FROM ({sql}) t",
        tuple(params),
    )


# Stand-in ids no consultation has: they mark where the real ids go in the
# parameters of an INSERT compiled once (see _insert_for_ids).
_ID_MARK = -7_364_512_903


@lru_cache(maxsize=32)
def _insert_for_ids(db: str, count: int) -> tuple[str, tuple, tuple[int, ...]]:
    """Return the INSERT for `count` consultation ids and where the ids go.

    Compiling the statement (eighteen topic numbers, the よろず連携
    condition, the window) costs the ORM a few milliseconds; logging a
    consultation reuses it with its own id.
    """
    marks = [_ID_MARK - i for i in range(count)]
    sql, params = _insert_statement(db, Q(pk__in=marks))
    return sql, params, tuple(params.index(mark) for mark in marks)


def yorozu_link_marks_refresh(
    consultations: QuerySet | None = None, *, case_ids: Iterable[int] | None = None
) -> int:
    """Set `is_yorozu_link` on the facts of these consultations (or cases').

    The rule is `crm.statistics.consultations.yorozu_link_q` (attendance of the other kind,
    or a referral between the two kinds on the case). Returns the number of
    fact rows whose mark changed.
    """
    if consultations is None:
        consultations = Consultation.objects.all()
    if case_ids is not None:
        consultations = consultations.filter(case_id__in=list(case_ids))
    facts = ConsultationFact.objects.filter(consultation__in=consultations.values("pk"))
    linked = consultations.filter(yorozu_link_q()).values("pk")
    changed = (
        facts.filter(is_yorozu_link=True)
        .exclude(consultation__in=linked)
        .update(is_yorozu_link=False)
    )
    return changed + facts.filter(is_yorozu_link=False, consultation__in=linked).update(
        is_yorozu_link=True
    )


def organisation_facts_refresh(organisation_ids: Iterable[int]) -> int:
    """Rewrite what follows organisations' place or kind (support_network's hook).

    Their own consultations' facts are rewritten; a kind change may also make
    consultations they attended, or whose case they referred or received,
    よろず連携 or not.
    """
    ids = list(organisation_ids)
    if not ids:
        return 0
    written = consultation_facts_refresh(organisation_ids=ids)
    touched = Consultation.objects.filter(
        Q(attendees__in=ids)
        | Q(case__referrals__from_organisation__in=ids)
        | Q(case__referrals__to_organisation__in=ids)
    ).exclude(organisation_id__in=ids)
    yorozu_link_marks_refresh(Consultation.objects.filter(pk__in=touched.values("pk")))
    return written
