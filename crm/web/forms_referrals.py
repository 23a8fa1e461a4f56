"""Web forms of referrals, on-the-spot consent, and case assignment: shape only.

As in crm/web/forms.py, the rules (who may, which transition, consent) live in
the services; these forms only keep what the user typed so a refused submit
loses nothing.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import ConsentMethod, ConsentScope, Topic
from crm.web.forms import DATE_WIDGET


class ReferralForm(forms.Form):
    """他機関へ紹介: where to, which topics, and why."""

    to_organisation = forms.ChoiceField(label=_("紹介先"))
    topics = forms.MultipleChoiceField(
        label=_("相談分野"), choices=Topic.choices, widget=forms.CheckboxSelectMultiple
    )
    # Routing tags that are not consultation topics (経営課題, 出願書類作成,
    # 取引上の不当な扱い…): they only steer the suggestions, nothing is sent.
    routing = forms.MultipleChoiceField(
        label=_("提案の観点（任意）"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label=_("紹介理由"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, organisation_choices=(), routing_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["routing"].choices = list(routing_choices)
        self.fields["to_organisation"].choices = [
            ("", _("選択してください")),
            *organisation_choices,
        ]


class InlineConsentForm(forms.Form):
    """The company's consent to provision (APPI art. 27), recorded on the spot."""

    prefix = "consent"

    scope = forms.ChoiceField(
        label=_("同意の範囲"),
        choices=ConsentScope.choices,
        initial=ConsentScope.NETWORK,
        widget=forms.RadioSelect,
        help_text=_("「指定した組織」は紹介先の組織だけを対象にします。"),
    )
    obtained_on = forms.DateField(
        label=_("取得日"), initial=timezone.localdate, widget=DATE_WIDGET
    )
    method = forms.ChoiceField(
        label=_("取得方法"),
        choices=ConsentMethod.choices,
        initial=ConsentMethod.WRITTEN,
    )


class AssignForm(forms.Form):
    """Pick the member of staff a case is assigned to (coordinator board)."""

    assignee = forms.TypedChoiceField(label=_("担当者"), coerce=int)

    def __init__(self, *args, member_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "—"), *member_choices]
