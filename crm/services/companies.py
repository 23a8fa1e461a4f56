"""Company registry writes: create, update, with 法人番号 and duplicate rules."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CompanyKind, SizeClass
from crm.models import Company
from crm.permissions import company_require_workable
from crm.rules.company_size import size_class
from crm.rules.corporate_number import (
    is_valid_corporate_number,
    normalise_corporate_number,
)
from crm.rules.industries import industry_needs_more_detail, is_valid_industry
from crm.rules.names import kana_key, name_key, normalise_name
from crm.services.audit import audit_record, changes_between
from support_network.actors import Actor
from support_network.errors import Conflict, ValidationFailed
from support_network.models import Prefecture

# Fields a caller may set on a company (API.md POST/PATCH companies/).
COMPANY_FIELDS = (
    "corporate_number",
    "name",
    "name_kana",
    "kind",
    "prefecture",
    "city",
    "industry",
    "capital_yen",
    "employees",
    "founded_on",
    "controlled_by_large_company",
)


def corporate_number_clean(value: str | None) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    number = normalise_corporate_number(str(value))
    if not (number.isdigit() and len(number) == 13):
        raise ValidationFailed(
            _("法人番号は13桁の数字で入力してください。"), field="corporate_number"
        )
    if not is_valid_corporate_number(number):
        raise ValidationFailed(
            _("法人番号のチェックデジットが正しくありません。番号を確認してください。"),
            field="corporate_number",
        )
    return number


def company_validate(company: Company, *, today: date) -> None:
    if not company.name or not normalise_name(company.name):
        raise ValidationFailed(_("名称を入力してください。"), field="name")
    if company.kind not in CompanyKind.values:
        raise ValidationFailed(_("種別が正しくありません。"), field="kind")
    if company.industry and not is_valid_industry(company.industry):
        raise ValidationFailed(
            _(
                "業種は日本標準産業分類のコード（例: 56, 391, 3911）で入力してください。"
            ),
            field="industry",
        )
    if company.capital_yen is not None and company.capital_yen < 0:
        raise ValidationFailed(
            _("資本金は0以上で入力してください。"), field="capital_yen"
        )
    if company.employees is not None and company.employees < 0:
        raise ValidationFailed(
            _("従業員数は0以上で入力してください。"), field="employees"
        )
    if company.founded_on and company.founded_on > today:
        raise ValidationFailed(
            _("設立・創業日に未来の日付は入力できません。"), field="founded_on"
        )


def size_class_hint(company: Company) -> str:
    """Return why the size class is unknown when a finer industry code would decide it.

    A bare 大分類 letter whose 中分類 fall in different SME groups (I: 卸売業 50–55 or
    小売業 56–61; G, K, M, N) or a code with a special case under it (39 情報サービス業,
    19 ゴム製品製造業, 75 宿泊業) decides nothing when its rules disagree for the
    company's figures; the hint asks for the 中分類 or 小分類. "" otherwise.
    """
    if company.size_class != SizeClass.UNKNOWN or not industry_needs_more_detail(
        company.industry or None
    ):
        return ""
    return _(
        "業種コード「%(code)s」には中小企業者の基準が異なる業種が含まれるため、"
        "規模区分を判定できません。中分類・小分類のコード（例: 卸売業 50〜55、"
        "小売業 56〜61、ソフトウェア業 391）を登録してください。"
    ) % {"code": company.industry}


def company_derive_keys(company: Company) -> None:
    """Write the derived search keys and size class from the row's own data."""
    company.name = company.name.strip()
    company.name_kana = (company.name_kana or "").strip()
    company.name_norm = normalise_name(company.name)
    company.name_key = name_key(company.name)
    company.kana_key = kana_key(company.name_kana) if company.name_kana else ""
    company.industry = (
        unicodedata.normalize("NFKC", company.industry or "").strip().upper()
    )
    company.size_class = (
        size_class(
            kind=company.kind,
            industry=company.industry or None,
            capital_yen=company.capital_yen,
            employees=company.employees,
        )
        or SizeClass.UNKNOWN
    )


def _duplicate_conflict(number: str) -> Conflict:
    existing = (
        Company.objects.filter(corporate_number=number)
        .values_list("pk", flat=True)
        .first()
    )
    return Conflict(
        _("この法人番号の企業等は既に登録されています。"),
        code="duplicate_company",
        existing=existing,
    )


def _resolve_prefecture(value: Any) -> Prefecture:
    if isinstance(value, Prefecture):
        return value
    try:
        return Prefecture.objects.get(code=str(value))
    except Prefecture.DoesNotExist as exc:
        raise ValidationFailed(
            _("都道府県コード（01〜47）が正しくありません。"), field="prefecture"
        ) from exc


@transaction.atomic
def company_create(
    *, actor: Actor, today: date | None = None, **fields: Any
) -> Company:
    """Register a company; 409 duplicate_company when its 法人番号 exists."""
    today = today or timezone.localdate()
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise ValueError(f"unknown company fields: {sorted(unknown)}")
    number = corporate_number_clean(fields.pop("corporate_number", None))
    prefecture = _resolve_prefecture(fields.pop("prefecture", None))
    company = Company(corporate_number=number, prefecture=prefecture, **fields)
    company.registered_by = actor.organisation
    company_validate(company, today=today)
    company_derive_keys(company)
    if number and Company.objects.filter(corporate_number=number).exists():
        raise _duplicate_conflict(number)
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError as exc:
        # A concurrent create of the same 法人番号 lost the race.
        if number:
            raise _duplicate_conflict(number) from exc
        raise
    audit_record(actor=actor, action="company.create", obj=company)
    return company


@transaction.atomic
def company_update(
    *,
    actor: Actor,
    company: Company,
    today: date | None = None,
    **fields: Any,
) -> Company:
    """Change a company's data; only organisations that work with it may.

    That is the organisation that registered it, one that owns one of its
    cases or holds an accepted referral on one (crm.permissions); hubs that
    only see its cases through consent read, they do not edit.
    """
    today = today or timezone.localdate()
    company_require_workable(actor, company)
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise ValueError(f"unknown company fields: {sorted(unknown)}")
    company = Company.objects.select_for_update().get(pk=company.pk)
    before = {
        name: getattr(company, name) for name in COMPANY_FIELDS if name != "prefecture"
    }
    before["prefecture"] = company.prefecture_id
    if "corporate_number" in fields:
        number = corporate_number_clean(fields.pop("corporate_number"))
        if (
            number
            and Company.objects.filter(corporate_number=number)
            .exclude(pk=company.pk)
            .exists()
        ):
            raise _duplicate_conflict(number)
        company.corporate_number = number
    if "prefecture" in fields:
        company.prefecture = _resolve_prefecture(fields.pop("prefecture"))
    changed = sorted(fields)
    for name, value in fields.items():
        setattr(company, name, value)
    company_validate(company, today=today)
    company_derive_keys(company)
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError as exc:
        if company.corporate_number:
            raise _duplicate_conflict(company.corporate_number) from exc
        raise
    after = {
        name: getattr(company, name) for name in COMPANY_FIELDS if name != "prefecture"
    }
    after["prefecture"] = company.prefecture_id
    audit_record(
        actor=actor,
        action="company.update",
        obj=company,
        data={"fields": changed},
        changes=changes_between(before, after),
    )
    return company
