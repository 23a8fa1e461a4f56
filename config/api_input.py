"""Bad input is a 400, never a 500: request bodies and list filters.

Found by the schemathesis fuzzing (tests/security/test_schemathesis.py).
Apart from config/api.py because DRF imports these while it loads its own
settings (DEFAULT_PARSER_CLASSES, DEFAULT_FILTER_BACKENDS): this module must
not import DRF's views.
"""

from __future__ import annotations

import io
import re

from django.conf import settings
from django.utils.translation import gettext as _
from django_filters import BooleanFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework import exceptions, parsers

from config.input_cleaning import (
    body_too_large_message,
    date_text_problem,
    field_label,
    json_depth_message,
    json_too_deep,
    text_problem,
)


def _reject_bad_text(data) -> None:
    """Refuse bad text and out-of-range dates anywhere in a parsed body.

    NUL and lone surrogates are a 400 `parse_error` naming the (top-level)
    field; a date-shaped string outside MIN_YEAR–MAX_YEAR is a 400
    `{"<field>": ["…"]}` as any invalid field.
    """
    if hasattr(data, "lists"):  # QueryDict of a form body
        top = [(key, [key, *values]) for key, values in data.lists()]
    elif isinstance(data, dict):
        top = [(key, [key, value]) for key, value in data.items()]
    else:
        top = [("non_field_errors", [data])]
    for field, items in top:
        stack = list(items)
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                problem = text_problem(item)
                if problem is not None:
                    raise exceptions.ParseError(
                        {
                            "detail": problem,
                            "code": "parse_error",
                            "field": field_label(str(field)),
                        }
                    )
                problem = date_text_problem(item)
                if problem is not None:
                    raise exceptions.ValidationError(
                        {field_label(str(field)): [problem]}
                    )
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list | tuple):
                stack.extend(item)


def _check_size(parser_context) -> None:
    """Refuse a body past DATA_UPLOAD_MAX_MEMORY_SIZE before reading it."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    request = (parser_context or {}).get("request")
    if limit is None or request is None:
        return
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise exceptions.ParseError(body_too_large_message())


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, within the input rules (config/input_cleaning.py).

    The body is read up to the size limit; a body nested past MAX_JSON_DEPTH
    (or deep enough to exhaust the decoder's recursion) is a 400.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        _check_size(parser_context)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise exceptions.ParseError(body_too_large_message())
            stream = io.BytesIO(raw)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(json_depth_message()) from None
        if json_too_deep(data):
            raise exceptions.ParseError(json_depth_message())
        _reject_bad_text(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _check_size(parser_context)
        data = super().parse(stream, media_type, parser_context)
        _reject_bad_text(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _reject_bad_text(result.data)
        return result


_INTEGER = re.compile(r"-?[0-9]{1,18}")
_BOOLEAN = {"true", "false", "True", "False", "1", "0"}


def _is_integer_filter(filterset, name: str, filter_) -> bool:
    if not isinstance(filter_, NumberFilter) or filter_.method:
        return False
    field = get_model_field(filterset._meta.model, filter_.field_name)
    return field is not None and field.get_internal_type() in {
        "AutoField",
        "BigAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "ForeignKey",
    }


class FilterBackend(DjangoFilterBackend):
    """django-filter, refusing filter values of the wrong type (400).

    django-filter reads `?case=1.5` as a decimal and `?escalated=yes` as
    "no filter", so a client's typo silently widens its list. Here an
    integer filter takes only integers that fit a bigint and a boolean one
    only true/false/1/0; an empty value still means "no filter", as in a
    search form.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {}
        for name, filter_ in filterset.filters.items():
            values = [v for v in filterset.data.getlist(name) if v != ""]
            if not values:
                continue
            if _is_integer_filter(filterset, name, filter_) and not all(
                _INTEGER.fullmatch(v) for v in values
            ):
                errors[name] = [_("整数で指定してください。")]
            elif isinstance(filter_, BooleanFilter) and not all(
                v in _BOOLEAN for v in values
            ):
                errors[name] = [_("true または false で指定してください。")]
        if errors:
            raise exceptions.ValidationError(errors)
        return filterset
