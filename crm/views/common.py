"""Shared pieces of the API views of clients and cases: error responses and input lookups."""

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

# A transition the record's current status does not allow (cases, referrals).
CONFLICT_TRANSITION = OpenApiResponse(
    description='invalid_transition: 現在の状態ではできない操作（"status" に現在の状態）'
)
# Visible but not changeable: only the recording organisation changes a record
# (cases, consultations, follow-ups, outcomes; crm.permissions).
FORBIDDEN_RECORD_CHANGE = OpenApiResponse(
    description="not_permitted: 閲覧はできるが、変更の権限がない（記録した組織だけが変更できる）"
)
