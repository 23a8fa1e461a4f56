"""OpenAPI post-processing: the error answers every operation can give.

Any API request can be refused before the view runs: 401 without valid
credentials, 403 for an organisation the caller is no member of, 400 when
several memberships leave the acting organisation open or a parameter is
malformed, 404 for what the caller may not see, 429 past the rate limit.
This hook documents them on every operation (in the shapes of API.md
"Errors"), so clients and schemathesis know every status the API answers
with; responses a view documents itself are kept, given the same body.

It also types ids in paths as integers: the router matches them with
config.api.ID_PATTERN, from which drf-spectacular would infer a string.

And it says what schemathesis found undocumented (issue 26 item 9): 409 on
every write (a state conflict: a transition already made, a duplicate, a
limit reached), 414 from the HTTP server in front of the app (gunicorn
refuses request lines over 4,094 bytes with an HTML page), `page_size`'s
lower bound (0 and negatives are a 400; above 200 is capped, so no upper
bound is declared), and the company fields present only for organisations
that work with the company (not required).
"""

from __future__ import annotations

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}

ERROR = {
    "type": "object",
    "description": (
        '{"detail": "…", "code": "…"}（409 などでは補足の項目が付くことがある）'
        '、または入力エラー {"<field>": ["message", …]}'
    ),
    "properties": {
        "detail": {"type": "string", "description": "日本語のメッセージ"},
        "code": {"type": "string", "description": "エラーの種類"},
    },
    "additionalProperties": True,
}

COMMON = {
    "400": "入力エラー、または X-Organisation が必要（organisation_required）",
    "401": "認証されていない（not_authenticated）",
    "403": "権限がない、または X-Organisation の組織に所属していない（not_a_member）",
    "404": "見つからない（閲覧できない）",
    "429": "リクエストが多すぎる（throttled、Retry-After ヘッダー付き）",
}


WRITE_METHODS = {"post", "put", "patch", "delete"}
CONFLICT = "状態と矛盾する（すでに処理済み、重複、件数の上限など。code で種類を示す）"
URI_TOO_LONG = {
    "description": "URI が長すぎる（アプリの前の HTTP サーバーが HTML で答える）",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
PAGE_SIZE_SCHEMA = {
    "type": "integer",
    "minimum": 1,
    "description": "1 以上（200 を超える値は 200 として扱う）",
}


def optional_fields() -> dict[str, tuple[str, ...]]:
    """Return the response components whose fields a caller may not get."""
    from crm.serializers.companies import PRIVATE_COMPANY_FIELDS

    # crm.serializers.companies.CompanySerializer: only with has_private_access.
    return {"Company": PRIVATE_COMPANY_FIELDS}


ID_REGEX = "^[0-9]{1,18}$"
ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}


def add_error_responses(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    for name, fields in optional_fields().items():
        component = schemas.get(name)
        if component and "required" in component:
            component["required"] = [
                f for f in component["required"] if f not in fields
            ]
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("pattern") == ID_REGEX:
                    parameter["schema"] = dict(ID_SCHEMA)
                if parameter.get("in") == "query" and parameter.get("name") == (
                    "page_size"
                ):
                    parameter["schema"] = dict(PAGE_SIZE_SCHEMA)
            responses = operation.setdefault("responses", {})
            for code, description in COMMON.items():
                responses.setdefault(code, {"description": description})
            if method in WRITE_METHODS:
                responses.setdefault("409", {"description": CONFLICT})
            responses.setdefault("414", dict(URI_TOO_LONG))
            for code, response in responses.items():
                if str(code).startswith("4") and "content" not in response:
                    response["content"] = content
    return result
