"""Company search: match conditions, relevance ranking and the reads of ranked pages.

A name query matches a company when its normalised name (with or without the
legal form) or its reading contains the query's `name_key` or `kana_key`
(crm.rules.names.search_keys), so every width, kana and legal-form spelling finds
the same company. Matches are ranked (`search_rank`):

0. exact: the name key or the reading equals the query;
1. prefix: the name key or the reading starts with it;
2. any other match;

and within a rank shorter names (`length(name_key)`) first, then newest.

Sorting every match by that key costs a read of every match: 25,000 rows for
精工 and hundreds of thousands for one kana, at 1M companies. So a ranked page
is not one sorted query. Exact matches are few and are read and sorted in
full. Prefix and other matches are each cut into a window, their newest
RANK_WINDOW rows, which are read (by id range or from the index, whichever
PostgreSQL estimates cheaper) and sorted by length; the older ones follow
newest first, read backwards on the primary key, which stops after one page
because only a common fragment has older matches (READS). Nothing is left out
and each read touches at most about RANK_WINDOW / (share of matching rows)
rows. (A btree on `(length(name_key), id)` walked in order looks tempting but
is a trap: a prefix like サクラ or a fragment in the middle of names never
occurs in short names, so the walk reads every short name first, which the
planner cannot know.) The cursor holds the read, the length, the id and the
window bounds. The DRF adapter that pages these reads is
crm.views.pagination.CompanySearchPagination; nothing here imports DRF.

PostgreSQL indexes (crm/migrations/0002, 0003): pg_trgm serves fragments of
3+ characters; `crm_bigrams()` (1- and 2-grams, GIN) serves 1- and
2-character fragments, which hold no complete trigram; `text_pattern_ops`
btrees serve exact and prefix matches. SQLite uses plain LIKE.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    Func,
    Lookup,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Length
from django.db.models.sql.where import AND

from crm.rules.corporate_number import normalise_corporate_number
from crm.rules.names import search_keys

# Longest fragment answered by the bigram index; longer ones go to pg_trgm.
SHORT_FRAGMENT = 2
# How many of the newest prefix matches, and of the newest other matches,
# are ranked by name length; older ones follow newest first (bench/README.md).
RANK_WINDOW = 100
# Ids read in id order (backwards on the primary key) before the rest of a
# read is taken from the search indexes and sorted instead.
ID_SLICE = 20_000
RANK_EXACT, RANK_PREFIX, RANK_OTHER = 0, 1, 2


@dataclass(frozen=True)
class SearchTerms:
    """A parsed search box value: a 法人番号, or the name and reading keys."""

    corporate_number: str = ""
    name: str = ""  # name_key(query)
    kana: str = ""  # kana_key(query); differs from name for hiragana

    @property
    def fragments(self) -> list[str]:
        """Return the distinct non-empty keys to look for."""
        return [f for f in dict.fromkeys((self.name, self.kana)) if f]


def search_terms(query: str | None) -> SearchTerms | None:
    """Parse a search box value; None when it is blank.

    13 digits, with hyphens, spaces, full-width digits or the invoice "T"
    prefix, are a 法人番号; anything else is a name or reading fragment.
    """
    query = (query or "").strip()
    if not query:
        return None
    number = normalise_corporate_number(query)
    if number.isascii() and number.isdigit() and len(number) == 13:
        return SearchTerms(corporate_number=number)
    name, kana = search_keys(query)
    return SearchTerms(name=name, kana=kana)


class HasFragment(Func):
    """True when name_key, name_norm or kana_key contains a 1–2-character fragment.

    Renders `crm_bigrams(name_key, name_norm, kana_key) @> ARRAY[fragment]`,
    the expression of the GIN index of migration 0003, which is exact for
    such fragments. The `strpos(...) <> 0` in front is a cheap pre-filter: when
    PostgreSQL walks a btree instead of the index (common fragment), rows
    without the fragment are rejected before the ~20 µs gram function runs,
    and its estimated selectivity (0.995, no statistics) leaves the planner's
    row estimate to the array statistics. (A LIKE there would be estimated
    too, and the product of two estimates of the same fact would make the
    planner think common fragments rare.) PostgreSQL only.
    """

    output_field = BooleanField()

    def __init__(self, fragment: str):
        super().__init__(F("name_key"), F("name_norm"), F("kana_key"), Value(fragment))

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            raise NotImplementedError("HasFragment needs the PostgreSQL bigram index")
        *columns, fragment = self.get_source_expressions()
        column_sql, column_params = [], []
        for column in columns:
            sql, params = compiler.compile(column)
            column_sql.append(sql)
            column_params.extend(params)
        fragment_sql, fragment_params = compiler.compile(fragment)
        sql = (
            f"(strpos({' || '.join(column_sql)}, {fragment_sql}::text) <> 0 "
            f"AND crm_bigrams({', '.join(column_sql)}) @> ARRAY[{fragment_sql}::text])"
        )
        return sql, (*column_params, *fragment_params, *column_params, *fragment_params)


class SearchMatch(ExpressionWrapper):
    """The match condition of a search, marked so ranked reads can drop it.

    The exact and prefix ranks imply a match; keeping the match condition in
    their queries as well would make PostgreSQL multiply two estimates of
    overlapping facts and read a common prefix the slow way.
    """

    def __init__(self, condition: Q):
        super().__init__(condition, output_field=BooleanField())


def _columns_for(terms: SearchTerms, fragment: str) -> tuple[str, ...]:
    # The reading key never holds hiragana, so a name key that differs from
    # the kana key (the query had hiragana) cannot occur in it.
    if fragment == terms.kana:
        return ("name_key", "name_norm", "kana_key")
    return ("name_key", "name_norm")


def match_q(terms: SearchTerms, vendor: str) -> Q:
    """Return 'a key column contains the name or the kana fragment'."""
    condition = Q()
    for fragment in terms.fragments:
        if vendor == "postgresql" and len(fragment) <= SHORT_FRAGMENT:
            condition |= Q(HasFragment(fragment))
            continue
        for column in _columns_for(terms, fragment):
            condition |= Q(**{f"{column}__contains": fragment})
    return condition


def exact_q(terms: SearchTerms) -> Q:
    """Return 'the name key or the reading equals the query' (rank 0)."""
    condition = Q()
    for fragment in terms.fragments:
        condition |= Q(name_key=fragment)
    if terms.kana:
        condition |= Q(kana_key=terms.kana)
    return condition


def prefix_q(terms: SearchTerms) -> Q:
    """Return 'the name key or the reading starts with the query' (rank 1)."""
    condition = Q()
    for fragment in terms.fragments:
        condition |= Q(name_key__startswith=fragment)
    if terms.kana:
        condition |= Q(kana_key__startswith=terms.kana)
    return condition


def filter_matches(qs: QuerySet, terms: SearchTerms) -> QuerySet:
    """Return the rows of qs matching a name search, with `search_rank` and `search_length`.

    `search_rank` is 0 (exact), 1 (prefix) or 2 (other match); the
    queryset is not ordered (see the module docstring for why).
    """
    condition = match_q(terms, connections[qs.db].vendor)
    if not condition:
        return qs.none()
    return qs.filter(SearchMatch(condition)).annotate(
        search_rank=Case(
            When(exact_q(terms), then=Value(RANK_EXACT)),
            When(prefix_q(terms), then=Value(RANK_PREFIX)),
            default=Value(RANK_OTHER),
        ),
        search_length=Length("name_key"),
    )


def _without_match(qs: QuerySet) -> QuerySet:
    """Return qs without its top-level SearchMatch filter (or qs, if it has none)."""
    where = qs.query.where
    kept = [
        child
        for child in where.children
        if not (isinstance(child, Lookup) and isinstance(child.lhs, SearchMatch))
    ]
    if where.connector != AND or where.negated or len(kept) == len(where.children):
        return qs
    stripped = qs.all()  # a clone: its where node and children list are its own
    stripped.query.where.children = kept
    return stripped


# --------------------------------------------------------------------------------------
# Ranked keyset pages
# --------------------------------------------------------------------------------------


# The reads of a ranked search, in page order: (search_rank, part). Exact
# matches are read whole; prefix and other matches first as their newest
# RANK_WINDOW ranked by length ("window"), then the older ones by id.
READS = (
    (RANK_EXACT, None),
    (RANK_PREFIX, "window"),
    (RANK_PREFIX, "older"),
    (RANK_OTHER, "window"),
    (RANK_OTHER, "older"),
)
WINDOWED = (RANK_PREFIX, RANK_OTHER)


@dataclass(frozen=True)
class Position:
    """Where a result sits: read (index into READS), name length and id.

    `floors` holds, for the prefix and the other matches, the lowest id of
    their ranked window (0: all are ranked; None: not computed yet). It
    travels in the cursor so that every page of one search uses the same
    windows.
    """

    read: int
    length: int
    pk: int
    floors: tuple[int | None, int | None] = (None, None)

    def encode(self) -> str:
        floors = ("" if f is None else str(f) for f in self.floors)
        return ".".join((str(self.read), str(self.length), str(self.pk), *floors))

    @classmethod
    def decode(cls, text: str) -> Position:
        """Parse an encoded position; ValueError when malformed."""
        read, length, pk, *floors = text.split(".")
        position = cls(
            int(read),
            int(length),
            int(pk),
            tuple(int(f) if f else None for f in floors),
        )
        if not (
            0 <= position.read < len(READS)
            and position.length >= 0
            and position.pk >= 1
            and len(position.floors) == len(WINDOWED)
            and all(f is None or f >= 0 for f in position.floors)
        ):
            raise ValueError(text)
        return position


def _in_id_order(
    rows: QuerySet,
    *,
    limit: int,
    below: int | None,
    above: int = 0,
    oldest_first: bool = False,
) -> list[tuple[int, int]]:
    """Return up to `limit` rows with `above < id < below`, newest (or oldest) first.

    `ORDER BY id DESC LIMIT n` is fast when many rows match (PostgreSQL walks
    the primary key and stops after n) and when few do (it takes them from
    the search index and sorts), but PostgreSQL picks between the two from
    its estimate, and a rare fragment estimated 10× too common had it walk
    700,000 rows. So the walk is bounded: the first branch reads only the
    ID_SLICE ids next to the start in id order; the second, run only when the
    first did not fill the page (`UNION ALL` under a LIMIT stops early),
    sorts the rest with `id + 0`, which the primary key cannot provide.
    The bounds are literals, so that PostgreSQL knows how many ids they hold.
    `below=None` means "from the newest": the slice is then cut below the
    highest id seen recently (_recent_top) and left open upwards.
    """
    if oldest_first:
        edge = above + ID_SLICE if below is None else min(above + ID_SLICE, below)
        near = rows.filter(id__gt=above, id__lt=edge).order_by("id")
        far = rows.filter(id__gte=edge)
        if below is not None:
            far = far.filter(id__lt=below)
        far = far.order_by((F("id") + 0).asc())
    else:
        top = _recent_top(rows.model) if below is None else below
        edge = max(top - ID_SLICE, above)
        near = rows.filter(id__gt=edge)
        if below is not None:
            near = near.filter(id__lt=below)
        near = near.order_by("-id")
        far = rows.filter(id__lte=edge)
        if above:
            far = far.filter(id__gt=above)
        far = far.order_by((F("id") + 0).desc())
    if connections[rows.db].features.supports_slicing_ordering_in_compound:
        keys = list(near[:limit].union(far[:limit], all=True)[:limit])
    else:  # SQLite: the same, in two statements
        keys = list(near[:limit])
        if len(keys) < limit:
            keys += list(far[: limit - len(keys)])
    return sorted(keys, key=lambda k: k[1], reverse=not oldest_first)[:limit]


_TOP_TTL_SECONDS = 60.0
_top_seen: dict[str, tuple[float, int]] = {}


def _recent_top(model) -> int:
    """Return an id just above the newest company, as of at most a minute ago.

    Only where the id slice of _in_id_order is cut depends on it, not which
    rows it returns (its first branch is open upwards), so a stale value is
    safe and saves a query on most searches.
    """
    now = time.monotonic()
    seen_at, top = _top_seen.get(model._meta.label, (0.0, 0))
    if now - seen_at > _TOP_TTL_SECONDS:
        top = (model._base_manager.aggregate(top=Max("id"))["top"] or 0) + 1
        _top_seen[model._meta.label] = (now, top)
    return top


def _sort_key(key: tuple[int, int]) -> tuple[int, int]:
    length, pk = key
    return (length, -pk)


class _Reads:
    """The reads of one search. Each returns (length, id) keys in page order."""

    def __init__(self, qs: QuerySet, terms: SearchTerms, floors):
        self.qs = qs
        self.base = _without_match(qs)
        self.exact, self.prefix = exact_q(terms), prefix_q(terms)
        self.floors = dict(zip(WINDOWED, floors, strict=True))
        self.windows: dict[int, list[tuple[int, int]]] = {}

    def matches(self, rank: int) -> QuerySet:
        if rank == RANK_EXACT:
            rows = self.base.filter(self.exact)
        elif rank == RANK_PREFIX:
            rows = self.base.filter(self.prefix).exclude(self.exact)
        else:
            rows = self.qs.exclude(self.exact | self.prefix)
        return rows.values_list("search_length", "id")

    def window(self, rank: int) -> list[tuple[int, int]]:
        """Return the newest RANK_WINDOW keys of a rank, sorted by length; set its floor."""
        if rank not in self.windows:
            floor = self.floors[rank]
            if floor:  # from the cursor; a bound too low to be ours is ignored
                cap = 2 * RANK_WINDOW
                keys = _in_id_order(
                    self.matches(rank), limit=cap + 1, below=None, above=floor - 1
                )
                if len(keys) > cap:
                    floor = None
            if not floor:
                keys = _in_id_order(
                    self.matches(rank), limit=RANK_WINDOW + 1, below=None
                )
                floor = keys[RANK_WINDOW - 1][1] if len(keys) > RANK_WINDOW else 0
                keys = keys[:RANK_WINDOW]
            self.floors[rank] = floor
            self.windows[rank] = sorted(keys, key=_sort_key)
        return self.windows[rank]

    def keys(
        self, index: int, *, limit: int, reverse: bool, after=None, before=None
    ) -> list:
        """Return up to `limit` keys of one read in page order (reversed: from its end).

        `after` / `before` is a position inside this read to start from.
        """
        rank, part = READS[index]
        if part == "older":
            self.window(rank)  # sets the floor
            floor = self.floors[rank]
            if not floor:
                return []
            below = min(floor, after.pk) if after is not None else floor
            return _in_id_order(
                self.matches(rank),
                limit=limit,
                below=below,
                above=before.pk if before is not None else 0,
                oldest_first=reverse,
            )
        if part is None:
            # Exact matches are few: the database sorts them all.
            rows = self.matches(rank)
            if after is not None:
                rows = rows.filter(
                    Q(search_length__gt=after.length)
                    | Q(search_length=after.length, id__lt=after.pk)
                )
            if before is not None:
                rows = rows.filter(
                    Q(search_length__lt=before.length)
                    | Q(search_length=before.length, id__gt=before.pk)
                )
            if reverse:
                return list(rows.order_by("-search_length", "id")[:limit])
            return list(rows.order_by("search_length", "-id")[:limit])
        keys = self.window(rank)
        if after is not None:
            mark = (after.length, -after.pk)
            keys = [k for k in keys if _sort_key(k) > mark]
        if before is not None:
            mark = (before.length, -before.pk)
            keys = [k for k in keys if _sort_key(k) < mark]
        if reverse:
            keys = keys[::-1]
        return keys[:limit]

    def position(self, index: int, key: tuple[int, int]) -> Position:
        floors = tuple(self.floors[rank] for rank in WINDOWED)
        return Position(index, key[0], key[1], floors)


def ranked_rows(
    qs: QuerySet,
    terms: SearchTerms,
    *,
    limit: int,
    after: Position | None = None,
    before: Position | None = None,
) -> list:
    """Return up to `limit` matches in rank order, after (or, reversed, before) a position.

    `qs` comes from company_search (filter_matches). With `before`, rows
    come nearest first, i.e. in reverse order. Each row gets `search_rank`
    and `search_position` (its encoded Position).
    """
    cursor = after or before
    reads = _Reads(qs, terms, cursor.floors if cursor else (None, None))
    order = list(range(len(READS)))
    if before is not None:
        order = [i for i in reversed(order) if i <= before.read]
    elif after is not None:
        order = [i for i in order if i >= after.read]
    found: list[tuple[int, tuple[int, int]]] = []
    for index in order:
        keys = reads.keys(
            index,
            limit=limit - len(found),
            reverse=before is not None,
            after=after if after is not None and index == after.read else None,
            before=before if before is not None and index == before.read else None,
        )
        found += [(index, key) for key in keys]
        if len(found) >= limit:
            break
    if not found:
        return []
    # The page's rows in one query by primary key, with the list's annotations.
    by_id = reads.base.in_bulk([key[1] for _index, key in found])
    rows = []
    for index, key in found:
        row = by_id.get(key[1])
        if row is None:  # deleted or merged since the keys were read
            continue
        row.search_rank = READS[index][0]
        row.search_position = reads.position(index, key).encode()
        rows.append(row)
    return rows
