"""Pagination of the API lists that are not a plain keyset on one ordering.

`CompanySearchPagination` pages a ranked company search (crm.selectors.search)
through DRF's cursor machinery; the plain keyset pagination of every other list
is config.api.KeysetPagination, the project-wide default.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from config.api import KeysetPagination
from crm.selectors.search import Position, SearchTerms, ranked_rows, search_terms


class _RankedResults:
    """The subset of QuerySet that CursorPagination.paginate_queryset uses.

    It records the direction and the cursor position, and slicing runs
    `ranked_rows`, so DRF's own cursor logic (links, offsets, reversing)
    works unchanged on top of the rank-by-rank reads.
    """

    def __init__(self, qs: QuerySet, terms: SearchTerms):
        self.qs, self.terms = qs, terms
        self.after: Position | None = None
        self.before: Position | None = None

    def order_by(self, *fields: str) -> _RankedResults:
        return self

    def filter(self, **kwargs) -> _RankedResults:
        ((lookup, value),) = kwargs.items()
        try:
            position = Position.decode(value)
        except (TypeError, ValueError):
            raise NotFound(CompanySearchPagination.invalid_cursor_message) from None
        if lookup.endswith("__gt"):
            self.after = position
        else:
            self.before = position
        return self

    def __getitem__(self, window: slice) -> list:
        rows = ranked_rows(
            self.qs, self.terms, limit=window.stop, after=self.after, before=self.before
        )
        return rows[window.start or 0 :]


class CompanySearchPagination(KeysetPagination):
    """Keyset pages of companies: newest first, or by relevance when `q` is a name.

    A queryset that company_search ranked (it carries `search_rank`) is paged
    rank by rank (see the module docstring); any other, including a 法人番号
    search, is paged by "-id" as before. The cursor format is DRF's.
    """

    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        terms = search_terms(request.query_params.get("q"))
        if (
            terms is not None
            and not terms.corporate_number
            and "search_rank" in queryset.query.annotations
        ):
            queryset = _RankedResults(queryset, terms)
        return super().paginate_queryset(queryset, request, view)

    def get_ordering(self, request, queryset, view):
        if isinstance(queryset, _RankedResults):
            # Read back by _get_position_from_instance: each row's encoded Position.
            return ("search_position",)
        return super().get_ordering(request, queryset, view)
