"""API shapes of the network's reference data."""

from rest_framework import serializers

from support_network.models import Organisation, Prefecture


class PrefectureSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id")
    region_label = serializers.CharField(source="region.name")
    jpaa_branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    jpaa_branch_label = serializers.CharField(source="jpaa_branch.name", default=None)

    class Meta:
        model = Prefecture
        fields = [
            "code",
            "name",
            "name_en",
            "region",
            "region_label",
            "jpaa_branch",
            "jpaa_branch_label",
        ]


class OrganisationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    prefecture = serializers.CharField(source="prefecture_id", allow_null=True)
    prefecture_label = serializers.CharField(
        source="prefecture.name", default=None, allow_null=True
    )
    region = serializers.CharField(source="region_id", allow_null=True)
    region_label = serializers.CharField(
        source="region.name", default=None, allow_null=True
    )
    parent = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    expertise = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )

    class Meta:
        model = Organisation
        fields = [
            "code",
            "name",
            "short_name",
            "kind",
            "kind_label",
            "prefecture",
            "prefecture_label",
            "region",
            "region_label",
            "parent",
            "is_network_member",
            "capacity",
            "expertise",
        ]
