"""What several page groups of the HTML UI share.

The company search of the search page, the typeahead and the consultation
form; the company form's defaults, duplicate candidates and error wording
(the registry and the inline registration on the consultation form); and the
member select of the board, the inbox, the case list and the follow-up form.
One copy each, so the pages cannot drift apart.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from crm.models import Company
from crm.selectors import search
from crm.selectors.board import assignable_members
from crm.selectors.companies import company_duplicate_candidates, company_search
from crm.selectors.visibility import companies_visible_to
from crm.web.forms import CompanyForm, add_domain_error
from support_network.errors import Conflict, DomainError
from support_network.people import person_name

# How many companies a search page and the typeahead show.
SEARCH_LIMIT = 50
PICKER_LIMIT = 10


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def company_matches(actor, query: str, limit: int) -> list[Company]:
    """Return the best `limit` matches, ranked like the API's search."""
    terms = search.search_terms(query)
    if terms is None:
        return []
    qs = company_search(companies_visible_to(actor), query)
    if terms.corporate_number:
        return list(qs[:limit])
    return search.ranked_rows(qs, terms, limit=limit)


def company_duplicates(form: CompanyForm) -> list[Company]:
    data = form.cleaned_data
    return list(
        company_duplicate_candidates(
            name=data["name"], prefecture=data["prefecture"].code
        )[:10]
    )


def company_initial(actor) -> dict:
    organisation = actor.organisation
    if organisation is not None and organisation.prefecture_id:
        return {"prefecture": organisation.prefecture_id}
    return {}


def company_error(form, exc: DomainError) -> None:
    if isinstance(exc, Conflict) and exc.code == "duplicate_company":
        url = reverse("crm:company-detail", args=[exc.extra.get("existing")])
        # A link, not the path as text (format_html escapes the parts).
        form.add_error(
            "corporate_number",
            format_html(
                '{} <a href="{}">{}</a>',
                exc.detail,
                url,
                _("既存の登録を使ってください（登録済みの企業等を開く）"),
            ),
        )
    else:
        add_domain_error(form, exc)


def member_choices(organisation_id: int) -> list[tuple[int, str]]:
    """Return (user id, "name（role）") of the organisation's active members."""
    return [
        (
            m.user_id,
            f"{person_name(m.user)}（{m.get_role_display()}）",
        )
        for m in assignable_members(organisation_id)
    ]
