"""Response descriptions the programs API documents on several endpoints."""

from drf_spectacular.utils import OpenApiResponse

BAD_INPUT = OpenApiResponse(
    description='入力エラー {"<field>": ["message"]}、または {"detail", "code"}'
)
NOT_FOUND = OpenApiResponse(description="見つからない（閲覧できない）")
FORBIDDEN = OpenApiResponse(description="閲覧できるが、この操作の権限がない")
