"""API shapes of events and their registrations. Shape only: rules live in services."""

from rest_framework import serializers

from crm.choices import EventKind, Topic
from crm.models import Event, EventAttendee


class EventInputSerializer(serializers.Serializer):
    """POST events/ (API.md "Events and surveys")."""

    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=EventKind.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_online = serializers.BooleanField(required=False, default=False)
    capacity = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=100000
    )
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=Topic.choices), required=False
    )
    cohosts = serializers.ListField(
        child=serializers.SlugField(max_length=60), required=False
    )


class EventUpdateSerializer(EventInputSerializer):
    """PATCH events/{id}/: the fields of POST events/, each optional."""

    title = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=EventKind.choices, required=False)
    starts_at = serializers.DateTimeField(required=False)
    is_online = serializers.BooleanField(required=False)


class EventSerializer(serializers.ModelSerializer):
    """An event's public facts, shown to every member organisation."""

    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    organisation_name = serializers.CharField(
        source="organisation.name", read_only=True
    )
    cohosts = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    topics = serializers.SerializerMethodField()
    attendees_count = serializers.IntegerField(read_only=True)
    is_host = serializers.BooleanField(read_only=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "organisation",
            "organisation_name",
            "cohosts",
            "title",
            "kind",
            "starts_at",
            "ends_at",
            "fiscal_year",
            "place",
            "is_online",
            "capacity",
            "topics",
            "attendees_count",
            "is_host",
        ]
        read_only_fields = fields

    def get_topics(self, obj) -> list[str]:
        return sorted(t.topic for t in obj.topics.all())


class AttendeeInputSerializer(serializers.Serializer):
    """POST events/{id}/attendees/."""

    company = serializers.IntegerField(min_value=1)
    contact_name = serializers.CharField(
        required=False, allow_blank=True, max_length=100
    )
    contact_email = serializers.CharField(
        required=False, allow_blank=True, max_length=254
    )


class AttendeeSerializer(serializers.ModelSerializer):
    company_name = serializers.CharField(source="company.name", read_only=True)
    registered_by = serializers.SlugRelatedField(slug_field="code", read_only=True)
    attended = serializers.BooleanField(source="is_attended", read_only=True)

    class Meta:
        model = EventAttendee
        fields = [
            "id",
            "event",
            "company",
            "company_name",
            "contact_name",
            "contact_email",
            "registered_by",
            "attended",
            "attended_at",
        ]
        read_only_fields = fields


class AttendInputSerializer(serializers.Serializer):
    attended = serializers.BooleanField(required=False, default=True)
