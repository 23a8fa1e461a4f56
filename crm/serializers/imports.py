"""Shapes of the imports API (API.md "Bringing history in")."""

from __future__ import annotations

from rest_framework import serializers

from crm.models import Import


class ImportInputSerializer(serializers.Serializer):
    """Body of POST imports/ (multipart)."""

    file = serializers.FileField(help_text="xlsx、または UTF-8 / Shift_JIS の CSV")
    kind = serializers.ChoiceField(
        choices=Import.Kind.choices, default=Import.Kind.CONSULTATIONS
    )
    mapping = serializers.JSONField(
        required=False,
        help_text='列の対応 {"列の見出し": "項目"}（"" はその列を使わない）',
    )


class ImportSerializer(serializers.ModelSerializer):
    """An import: its dry-run report, progress and what it created."""

    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Import
        fields = [
            "id",
            "kind",
            "organisation",
            "requested_by",
            "file_name",
            "file_format",
            "status",
            "status_label",
            "mapping",
            "unknown_headers",
            "rows",
            "valid_rows",
            "errors",
            "error_count",
            "companies_matched",
            "companies_new",
            "companies",
            "duplicates",
            "progress",
            "processed_rows",
            "created",
            "failure",
            "created_at",
            "validated_at",
            "started_at",
            "committed_at",
            "undone_at",
        ]
        read_only_fields = fields
