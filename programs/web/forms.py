"""Web forms of programs: shape only.

As in crm/web/forms.py, eligibility, capacity, quotas and caps live in
programs/services/; these forms check types and keep what the user typed,
so a refused submit shows the service's Japanese message beside the field
and loses nothing.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import IpType, Topic
from crm.web.forms import DATE_WIDGET
from programs.choices import Scheme, TeamRole
from support_network.calendar import fiscal_year_label

YEN_WIDGET = forms.NumberInput(attrs={"inputmode": "numeric", "step": "1", "min": "0"})


class EnrolmentApplyForm(forms.Form):
    """支援事業に申し込む: program, fiscal year, scheme and what the rules ask."""

    program = forms.ChoiceField(label=_("支援事業"))
    fiscal_year = forms.TypedChoiceField(label=_("年度"), coerce=int)
    scheme = forms.ChoiceField(
        label=_("類型"),
        required=False,
        choices=[("", _("なし")), *Scheme.choices],
        help_text=_(
            "iAca: ①有望シーズの発掘・活用支援 ②スタートアップ創出支援 "
            "③企業との大型共同研究支援／iNat: ①研究機関派遣型 ②FA派遣型"
        ),
    )
    joint_research_yen_per_year = forms.IntegerField(
        label=_("企業との共同研究費（円／年）"),
        required=False,
        min_value=0,
        max_value=10**15,
        widget=YEN_WIDGET,
        help_text=_("iAca 類型③は年間10,000,000円以上の共同研究が対象です。"),
    )
    is_national_project = forms.BooleanField(
        label=_(
            "国プロ（競争的研究費による研究開発プロジェクト）を推進する申込（iNat）"
        ),
        required=False,
    )

    confirmed_conditions = forms.MultipleChoiceField(
        label=_("確認事項"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("申込者が該当することを確認した条件に印を付けてください。"),
    )

    def __init__(
        self,
        *args,
        program_choices=(),
        fiscal_year_choices=(),
        condition_choices=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", _("選択してください")), *program_choices]
        self.fields["fiscal_year"].choices = list(fiscal_year_choices)
        if condition_choices:
            self.fields["confirmed_conditions"].choices = list(condition_choices)
        else:
            del self.fields["confirmed_conditions"]


class ProgramReferralForm(EnrolmentApplyForm):
    """支援事業へ紹介: the application plus the referral to the operator."""

    topics = forms.MultipleChoiceField(
        label=_("相談分野"), choices=Topic.choices, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label=_("紹介理由"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SupportPlanForm(forms.Form):
    """The support plan of the current period: goals, achieved, day quota."""

    goals = forms.CharField(
        label=_("目標"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    achieved = forms.BooleanField(label=_("この期の計画を達成した"), required=False)
    day_quota = forms.IntegerField(
        label=_("この期の支援日数の上限（日）"),
        required=False,
        min_value=1,
        max_value=365,
    )

    def __init__(self, *args, quota_range: tuple[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if quota_range is None:
            del self.fields["day_quota"]
        else:
            low, high = quota_range
            self.fields["day_quota"].help_text = _(
                "%(low)s〜%(high)s日。空欄なら%(high)s日です。"
            ) % {"low": low, "high": high}


class SupportDayForm(forms.Form):
    """One date of expert support, in half or whole days."""

    date = forms.DateField(
        label=_("支援日"), initial=timezone.localdate, widget=DATE_WIDGET
    )
    days = forms.ChoiceField(
        label=_("日数"),
        choices=[("1", _("1日")), ("0.5", _("0.5日"))],
        initial="1",
    )
    note = forms.CharField(
        label=_("内容"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TeamMemberForm(forms.Form):
    """Put an expert on the support team."""

    membership = forms.TypedChoiceField(label=_("専門家"), coerce=int)
    role = forms.ChoiceField(label=_("役割"))

    def __init__(self, *args, member_choices=(), role_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].choices = [
            ("", _("選択してください")),
            *member_choices,
        ]
        self.fields["role"].choices = list(role_choices or TeamRole.choices)


class EstimateForm(forms.Form):
    """補助金の見積もり: the fiscal year and what was already granted."""

    fiscal_year = forms.TypedChoiceField(label=_("年度"), coerce=int)
    already_granted_yen = forms.IntegerField(
        label=_("交付済みの額（円）"),
        required=False,
        min_value=0,
        max_value=10**12,
        widget=YEN_WIDGET,
        help_text=_(
            "上限の対象期間に既に交付された額。企業等を指定したときは記録から計算します。"
        ),
    )

    confirmed_conditions = forms.MultipleChoiceField(
        label=_("確認事項"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("企業等が該当することを確認した条件に印を付けてください。"),
    )

    def __init__(self, *args, fiscal_year_choices=(), condition_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year"].choices = list(fiscal_year_choices)
        if condition_choices:
            self.fields["confirmed_conditions"].choices = list(condition_choices)
        else:
            del self.fields["confirmed_conditions"]


class EstimateItemForm(forms.Form):
    """One cost item of an estimate (one case: 1件)."""

    right = forms.ChoiceField(label=_("権利"), choices=IpType.choices)
    cost_yen = forms.IntegerField(
        label=_("費用（円）"),
        required=False,
        min_value=0,
        max_value=10**12,
        widget=YEN_WIDGET,
    )
    renewal = forms.BooleanField(label=_("更新"), required=False)
    squatting_countermeasure = forms.BooleanField(
        label=_("冒認対策商標"), required=False
    )

    def __init__(
        self,
        *args,
        right_choices=None,
        has_renewal=True,
        has_squatting_countermeasure=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if right_choices:
            self.fields["right"].choices = list(right_choices)
        if not has_renewal:
            del self.fields["renewal"]
        if not has_squatting_countermeasure:
            del self.fields["squatting_countermeasure"]


EstimateItemFormSet = forms.formset_factory(
    EstimateItemForm, extra=3, max_num=20, absolute_max=20, validate_max=True
)


def fiscal_year_choices(years) -> list[tuple[int, str]]:
    return [(fy, fiscal_year_label(fy)) for fy in sorted(set(years))]
