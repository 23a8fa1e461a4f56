"""Web forms of a case's upkeep: the case list's filters, closing, corrections.

Shape only, as in crm/web/forms.py: who may and what is valid is the services'
(crm/services/cases.py, consultations.py, corrections.py); these forms keep what
the user typed so a refused submit loses nothing.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import CaseStatus
from crm.services.cases import MAX_CLOSING_NOTE
from crm.services.corrections import MAX_VOID_REASON
from crm.web.forms import DATE_WIDGET, ConsultationForm, OutcomeForm

# The create form's fields that PATCH consultations/{id}/ does not change.
NOT_EDITED = ("company", "case", "follow_up_on", "attendees", "confidential")


class CaseListForm(forms.Form):
    """The filters of /cases/ (a GET form: every value optional)."""

    SCOPES = (
        ("mine", _("自分の担当")),
        ("organisation", _("自組織")),
        ("all", _("閲覧できるすべて")),
    )
    STATUSES = (*CaseStatus.choices, ("all", _("すべて")))

    scope = forms.ChoiceField(choices=SCOPES, required=False)
    status = forms.ChoiceField(label=_("状態"), choices=STATUSES, required=False)
    company = forms.CharField(
        label=_("企業等（名称・フリガナ・法人番号・ID）"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    assignee = forms.TypedChoiceField(
        label=_("担当者"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, member_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("すべて")), *member_choices]


class CaseCloseForm(forms.Form):
    """案件を完了にする: the closing note says what was achieved."""

    prefix = "close"

    note = forms.CharField(
        label=_("完了メモ"),
        max_length=MAX_CLOSING_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("支援の結果と完了の理由を書いてください。"),
        error_messages={"required": _("完了メモを入力してください。")},
    )


class CaseReopenForm(forms.Form):
    """案件を再開する, with an optional reason kept in the audit trail."""

    prefix = "reopen"

    note = forms.CharField(
        label=_("再開の理由（任意）"),
        max_length=MAX_CLOSING_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConsultationEditForm(ConsultationForm):
    """訂正: what a consultation's correction may change, with the create form's widgets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in NOT_EDITED:
            del self.fields[name]

    @staticmethod
    def initial_for(consultation) -> dict:
        """Return the form's initial values: the consultation as it is."""
        local = timezone.localtime(consultation.occurred_at)
        return {
            "occurred_on": local.date(),
            "occurred_time": local.time().replace(second=0, microsecond=0),
            "channel": consultation.channel,
            "duration_minutes": consultation.duration_minutes,
            "topics": sorted(t.topic for t in consultation.topics.all()),
            "ip_types": sorted(t.ip_type for t in consultation.ip_types.all()),
            "summary": consultation.summary,
            "advice": consultation.advice,
            "next_action": consultation.next_action,
        }

    def service_fields(self) -> dict:
        """Return what the user changed, as consultation_update takes it."""
        changed = set(self.changed_data)
        fields = {}
        if changed & {"occurred_on", "occurred_time"}:
            fields["occurred_at"] = self.occurred_at()
        for name in (
            "channel",
            "duration_minutes",
            "topics",
            "ip_types",
            "summary",
            "advice",
            "next_action",
        ):
            if name in changed:
                fields[name] = self.cleaned_data[name]
        return fields


class OutcomeEditForm(OutcomeForm):
    """訂正 of an outcome: the fields of recording one."""

    def service_fields(self) -> dict:
        """Return what the user changed, as outcome_update takes it."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class VoidForm(forms.Form):
    """取消: the reason is required here (the audit trail keeps it)."""

    reason = forms.CharField(
        label=_("取消の理由"),
        max_length=MAX_VOID_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("取消の理由を入力してください。")},
    )


class FollowUpEditForm(forms.Form):
    """Reschedule a follow-up: due date, note, assignee (a member of its organisation)."""

    due_on = forms.DateField(label=_("期日"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("メモ"), max_length=200, required=False)
    assignee = forms.TypedChoiceField(label=_("担当者"), coerce=int)

    def __init__(self, *args, member_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = list(member_choices)
