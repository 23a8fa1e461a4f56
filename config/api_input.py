"""Bad input is a 400, never a 500: request bodies and list filters.

Found by the schemathesis fuzzing (tests/security/test_schemathesis.py).
Apart from config/api.py because DRF imports these while it loads its own
settings (DEFAULT_PARSER_CLASSES, DEFAULT_FILTER_BACKENDS): this module must
not import DRF's views.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django_filters import BooleanFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework import exceptions, parsers


def _reject_nul(data) -> None:
    """Refuse NUL characters anywhere in a parsed body (PostgreSQL text has none)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise exceptions.ParseError(
                    _("NUL 文字（\\u0000）を含む値は受け付けられません。")
                )
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "lists"):  # QueryDict of a form body
            for key, values in item.lists():
                stack.append(key)
                stack.extend(values)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _reject_nul(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _reject_nul(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _reject_nul(result.data)
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
