"""Reads of companies: search, duplicate candidates and the cases a user sees of one.

The company search entry point (`company_search`) filters and annotates; the
matching and ranking themselves are in crm.selectors.search.
"""

from __future__ import annotations

from django.db.models import QuerySet

from crm.choices import CaseStatus
from crm.models import Case, Company
from crm.rules.names import name_key
from crm.selectors.search import filter_matches, search_terms
from crm.selectors.visibility import cases_visible_to
from support_network.actors import Actor


def company_search(qs: QuerySet[Company], query: str) -> QuerySet[Company]:
    """Filter companies by 法人番号, or a fragment of the name or reading.

    The query is normalised like the stored keys (width, legal-form
    variants, spaces, dashes), so every spelling finds the same company.
    A name search also annotates each row with `search_rank` (0 exact,
    1 prefix, 2 other match) and `search_length` (length of its name key):
    crm.views.pagination.CompanySearchPagination pages by them, most relevant first.
    The queryset is not ordered here, because sorting every match of a
    common fragment costs a read of each of them; see crm.selectors.search.
    """
    terms = search_terms(query)
    if terms is None:
        return qs
    if terms.corporate_number:
        return qs.filter(corporate_number=terms.corporate_number)
    return filter_matches(qs, terms)


def company_duplicate_candidates(*, name: str, prefecture: str) -> QuerySet[Company]:
    """Return companies whose normalised name and prefecture match ("この会社ですか？")."""
    return Company.objects.filter(
        name_key=name_key(name),
        prefecture_id=prefecture,
        merged_into__isnull=True,
    )


def company_cases_visible_to(actor: Actor, company: Company) -> QuerySet[Case]:
    """Return the company's cases the actor may see, open ones first."""
    return (
        cases_visible_to(actor)
        .filter(company=company)
        .order_by("status", "-opened_on", "-id")
    )


def default_case_for(actor: Actor, company: Company) -> Case | None:
    """Return the case a new consultation most likely belongs to.

    That is the most recent open case of the actor's organisation on the
    company; a consultation elsewhere starts a new case.
    """
    if actor.organisation_id is None:
        return None
    return (
        cases_visible_to(actor)
        .filter(
            company=company,
            organisation_id=actor.organisation_id,
            status=CaseStatus.OPEN,
        )
        .order_by("-opened_on", "-id")
        .first()
    )
