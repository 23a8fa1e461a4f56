"""Shared pieces of the API views of clients and cases."""

from drf_spectacular.utils import OpenApiResponse

from support_network.errors import ValidationFailed


def visible_or_400(queryset, pk, field: str, message: str):
    """Return the visible object with pk, or a 400 naming the input field."""
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(message, field=field)
    return obj


ERROR_RESPONSES = {
    400: OpenApiResponse(description='入力エラー {"<field>": ["message"]}'),
    404: OpenApiResponse(description="見つからない（閲覧できない）"),
}
