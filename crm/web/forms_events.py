"""Web forms of network events: shape only (rules live in crm/services/events.py)."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import EventKind, Topic
from crm.web.forms import DATE_WIDGET
from support_network.models import Organisation

TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class EventForm(forms.Form):
    """An event's facts as the host types them."""

    title = forms.CharField(label=_("名称"), max_length=200)
    kind = forms.ChoiceField(
        label=_("種類"), choices=EventKind.choices, initial=EventKind.SEMINAR
    )
    starts_on = forms.DateField(label=_("開催日"), widget=DATE_WIDGET)
    starts_time = forms.TimeField(
        label=_("開始時刻"), initial=time(14, 0), widget=TIME_WIDGET
    )
    ends_time = forms.TimeField(label=_("終了時刻"), required=False, widget=TIME_WIDGET)
    place = forms.CharField(label=_("会場"), max_length=200, required=False)
    is_online = forms.BooleanField(label=_("オンライン開催"), required=False)
    capacity = forms.IntegerField(
        label=_("定員"),
        min_value=1,
        max_value=100000,
        required=False,
        help_text=_("定員がないときは空欄にします。"),
    )
    topics = forms.MultipleChoiceField(
        label=_("分野"),
        choices=Topic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    cohosts = forms.ModelMultipleChoiceField(
        label=_("共催組織"),
        queryset=Organisation.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        required=False,
        help_text=_("Ctrl（⌘）を押しながら複数選べます。"),
    )

    def service_fields(self) -> dict:
        """Return the cleaned data as event_create / event_update take it."""
        data = self.cleaned_data
        tz = timezone.get_current_timezone()
        starts_at = datetime.combine(data["starts_on"], data["starts_time"], tz)
        ends_at = (
            datetime.combine(data["starts_on"], data["ends_time"], tz)
            if data.get("ends_time")
            else None
        )
        return {
            "title": data["title"],
            "kind": data["kind"],
            "starts_at": starts_at,
            "ends_at": ends_at,
            "place": data.get("place") or "",
            "is_online": bool(data.get("is_online")),
            "capacity": data.get("capacity"),
            "topics": list(data.get("topics") or []),
            "cohosts": [o.code for o in data.get("cohosts") or []],
        }


class EventFilterForm(forms.Form):
    fiscal_year = forms.IntegerField(
        label=_("年度"), min_value=2000, max_value=2100, required=False
    )
    kind = forms.ChoiceField(
        label=_("種類"),
        choices=[("", _("すべて")), *EventKind.choices],
        required=False,
    )


class RegistrationForm(forms.Form):
    """The registration of a company (picked by typeahead) and its contact."""

    company = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact_name = forms.CharField(
        label=_("参加者氏名"), max_length=100, required=False
    )
    contact_email = forms.EmailField(
        label=_("参加者メールアドレス"), max_length=254, required=False
    )
