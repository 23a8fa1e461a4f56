"""API shapes of programs."""

from rest_framework import serializers

from programs.models import Program, ProgramRound


class ProgramRoundSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgramRound
        fields = ["fiscal_year", "capacity", "opens_on", "closes_on"]


class ProgramSerializer(serializers.ModelSerializer):
    operator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    operator_label = serializers.CharField(source="operator.name")
    kind_label = serializers.CharField(source="get_kind_display")
    rounds = ProgramRoundSerializer(many=True, read_only=True)

    class Meta:
        model = Program
        fields = [
            "code",
            "name",
            "short_name",
            "kind",
            "kind_label",
            "operator",
            "operator_label",
            "description",
            "rules",
            "rounds",
            "source",
        ]
