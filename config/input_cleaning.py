"""One input-cleaning layer: what a request may carry, for the API and the web.

Bad input is a 400 that names the field, never a 500 (issues 24, 25). Each
rule is one function here; the API's parsers (config/api_input.py) apply
them to every JSON, form and multipart body, and InputCleaningMiddleware
below to every query string (API and web) and every web form:

- text (`text_problem`; `clean_text(value, field)` for code that holds a
  value): no NUL character (PostgreSQL text cannot hold it) and no unpaired
  UTF-16 surrogate (`"\\ud800"` in JSON; no encoder can write it);
- dates (`date_text_problem` for a date written as text, `date_problem` /
  `clean_date(value, field)` for a parsed one, e.g. from an imported file):
  years MIN_YEAR–MAX_YEAR, so the JST→UTC shift and business-day arithmetic
  never leave Python's range;
- JSON bodies (`json_too_deep`): nested at most MAX_JSON_DEPTH levels (a
  100,000-deep array exhausts the decoder's recursion);
- request bodies: at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes
  (`body_too_large_message`); `bad_request` (handler400) answers JSON under
  /api/ when Django itself refuses a body.

The messages are Japanese. Under /api/ a refusal is `{"<field>": ["…"]}`
(NUL and surrogates in a body: 400 `parse_error` with `field`); elsewhere
the site's 400 page names the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

MIN_YEAR = 1900
MAX_YEAR = 2100
MIN_DATE = dt.date(MIN_YEAR, 1, 1)
MAX_DATE = dt.date(MAX_YEAR, 12, 31)
# Deeper than any body the API documents (items of an estimate: 3 levels).
MAX_JSON_DEPTH = 32

_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


# --------------------------------------------------------------------------
# The rules, one function each


def text_problem(value: str) -> str | None:
    """Return the Japanese reason value is refused as text, or None when it is fine."""
    found = _BAD_CHARACTER.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return _("NUL 文字（\\u0000）を含む値は受け付けられません。")
    return _(
        "対になっていないサロゲート文字（%(char)s）を含む値は受け付けられません。"
    ) % {"char": f"\\u{ord(found.group()):04x}"}


def clean_text(value: str, field: str) -> str:
    """Return value; ValidationError naming field when it holds NUL or a lone surrogate."""
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError({field_label(field): [problem]})
    return value


def date_problem(value: dt.date) -> str | None:
    """Return the Japanese reason a date is refused, or None inside MIN_YEAR–MAX_YEAR."""
    if MIN_DATE <= value <= MAX_DATE:
        return None
    return _("日付は%(min)s年から%(max)s年の範囲で指定してください。") % {
        "min": MIN_YEAR,
        "max": MAX_YEAR,
    }


def clean_date(value: dt.date, field: str) -> dt.date:
    """Return value (a date or datetime); ValidationError outside MIN_YEAR–MAX_YEAR."""
    day = value.date() if isinstance(value, dt.datetime) else value
    problem = date_problem(day)
    if problem is not None:
        raise ValidationError({field: [problem]})
    return value


clean_datetime = clean_date

# A date as clients write one: ISO (2025-06-01, 2025-06-01T10:00+09:00),
# 2025/06/01, and the other shapes Django's forms parse (DATE_INPUT_FORMATS:
# 06/01/2025, Jun 1 2025, 1 June, 2025, with a time for datetimes). Every
# one reads exactly four digits of year (%Y), the group captured here.
_TIME = r"(?:[T ][0-9:.,]+(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
_DATE_SHAPES = (
    re.compile(
        r"\s*([0-9]{4})[-/](0?[1-9]|1[0-2])[-/](0?[1-9]|[12][0-9]|3[01])"
        + _TIME
        + r"\s*"
    ),
    re.compile(r"\s*[0-9]{1,2}/[0-9]{1,2}/([0-9]{4})" + _TIME + r"\s*"),
    re.compile(r"\s*[A-Za-z]{3,9}\.? [0-9]{1,2},? ([0-9]{4})\s*"),
    re.compile(r"\s*[0-9]{1,2} [A-Za-z]{3,9}\.?,? ([0-9]{4})\s*"),
)


def date_text_problem(value: str) -> str | None:
    """Return the reason a date written as text is refused (year out of range), or None.

    Dates are bounded wherever they are parsed from a request: this rule is
    applied to every query parameter, form field and JSON string shaped
    like a date, before a serializer, form or filter parses it.
    """
    if len(value) > 64:
        return None
    for shape in _DATE_SHAPES:
        found = shape.fullmatch(value)
        if found is not None:
            if MIN_YEAR <= int(found.group(1)) <= MAX_YEAR:
                return None
            return date_problem(dt.date.min)
    return None


def value_problem(value: str) -> str | None:
    """Return why a text value of a request is refused (text or date rule), or None."""
    return text_problem(value) or date_text_problem(value)


def field_label(name: str) -> str:
    """Return a field name fit to be printed back (a key may itself be bad)."""
    return _BAD_CHARACTER.sub("\ufffd", name) or "non_field_errors"


def first_text_problem(
    pairs: Iterable[tuple[str, str]],
) -> tuple[str, str] | None:
    """Return (field, reason) of the first bad key or value, or None."""
    for key, value in pairs:
        problem = text_problem(key)
        if problem is None and isinstance(value, str):
            problem = value_problem(value)
        if problem is not None:
            return field_label(key), problem
    return None


def json_too_deep(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """Return whether parsed JSON nests past limit levels (arrays and objects)."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def json_depth_message() -> str:
    return _("JSON の入れ子が深すぎます（%(limit)d 階層まで）。") % {
        "limit": MAX_JSON_DEPTH
    }


def body_too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return _("リクエスト本文が大きすぎます（%(size)s バイトまで）。") % {
        "size": f"{limit:,}"
    }


# --------------------------------------------------------------------------
# Every query string and web form (middleware)


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


def bad_input_response(request, field: str, message: str) -> HttpResponse:
    """Return the 400: JSON `{field: [message]}` under /api/, a Japanese page elsewhere."""
    if is_api_path(request.path):
        return JsonResponse({field: [message]}, status=400)
    # The site's 400 page (templates/400.html), without the request's
    # context: it renders before authentication and the context processors.
    text = _("「%(field)s」: %(message)s") % {"field": field, "message": message}
    html = render_to_string("400.html", {"message": text})
    return HttpResponse(html, status=400)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InputCleaningMiddleware:
    """Refuse bad text and out-of-range dates in query strings and web forms.

    Query strings on every path; form fields on web paths.

    API bodies are checked by the API's parsers (config/api_input.py), which
    read the stream themselves; web forms here, before any view or the CSRF
    check reads them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = first_text_problem(
            (key, value) for key, values in request.GET.lists() for value in values
        )
        if (
            found is None
            and not is_api_path(request.path)
            and request.method == "POST"
            and request.content_type in _FORM_TYPES
        ):
            found = first_text_problem(
                (key, value) for key, values in request.POST.lists() for value in values
            )
        if found is not None:
            return bad_input_response(request, *found)
        return self.get_response(request)


def bad_request(request, exception=None):
    """handler400: JSON under /api/ (an oversize body is a parse_error), Django's page elsewhere."""
    from django.core.exceptions import RequestDataTooBig
    from django.views import defaults

    if not is_api_path(request.path):
        if isinstance(exception, RequestDataTooBig):
            html = render_to_string("400.html", {"message": body_too_large_message()})
            return HttpResponse(html, status=400)
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            {"detail": body_too_large_message(), "code": "parse_error"}, status=400
        )
    return JsonResponse(
        {"detail": _("リクエストを処理できません。"), "code": "bad_request"},
        status=400,
    )
