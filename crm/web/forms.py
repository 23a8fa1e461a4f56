"""Web forms of clients and cases: shape only.

Forms check types and formats and keep what the user typed; the rules live
in the services, whose field errors `add_domain_error` puts back on the form,
so a failed submit shows a Japanese message beside the field and loses
nothing.
"""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import Channel, CompanyKind, IpType, OutcomeKind, Topic
from support_network.errors import DomainError
from support_network.models import Organisation, Prefecture

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_domain_error(form: forms.Form, exc: DomainError, aliases=None) -> None:
    """Put a service's error on the form field it names (or on the form)."""
    field = (aliases or {}).get(exc.field, exc.field)
    if field and field in form.fields:
        form.add_error(field, exc.detail)
    else:
        form.add_error(None, exc.detail)


class CompanyForm(forms.Form):
    """A company's master data, as the registry and the inline create use it."""

    name = forms.CharField(label=_("名称"), max_length=200)
    name_kana = forms.CharField(label=_("フリガナ"), max_length=200, required=False)
    corporate_number = forms.CharField(
        label=_("法人番号（13桁）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label=_("種別"), choices=CompanyKind.choices, initial=CompanyKind.CORPORATION
    )
    prefecture = forms.ModelChoiceField(
        label=_("都道府県"),
        queryset=Prefecture.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("選択してください"),
    )
    city = forms.CharField(label=_("市区町村"), max_length=60, required=False)
    industry = forms.CharField(
        label=_("業種（日本標準産業分類コード）"),
        max_length=5,
        required=False,
        help_text=_(
            "中分類（2桁）以下のコードで入力してください（例: 56 各種商品小売業、"
            "391 ソフトウェア業、7511 旅館，ホテル）。"
        ),
    )
    capital_yen = forms.IntegerField(
        label=_("資本金（円）"), min_value=0, required=False
    )
    employees = forms.IntegerField(
        label=_("従業員数"), min_value=0, max_value=10_000_000, required=False
    )
    founded_on = forms.DateField(
        label=_("設立・創業日"), required=False, widget=DATE_WIDGET
    )
    # Set once the user has seen the "この会社ですか？" candidates and chose
    # to register anyway.
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def service_fields(self) -> dict:
        """Return cleaned data as company_create takes it (blank = absent)."""
        data = {
            key: value
            for key, value in self.cleaned_data.items()
            if key != "confirm_new" and value not in (None, "")
        }
        data["prefecture"] = self.cleaned_data["prefecture"].code
        return data


class NewCompanyForm(CompanyForm):
    """The inline "register a new company" part of the consultation form."""

    prefix = "new"


def _now_minutes() -> time:
    now = timezone.localtime()
    return time(now.hour, now.minute - now.minute % 5)


class ConsultationForm(forms.Form):
    """相談記録: what the window staff type after each consultation."""

    company = forms.IntegerField(required=False, widget=forms.HiddenInput)
    case = forms.ChoiceField(label=_("案件"), required=False)
    occurred_on = forms.DateField(
        label=_("相談日"), initial=timezone.localdate, widget=DATE_WIDGET
    )
    occurred_time = forms.TimeField(
        label=_("開始時刻"),
        initial=_now_minutes,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    channel = forms.ChoiceField(
        label=_("相談方法"),
        choices=Channel.choices,
        initial=Channel.VISIT,
        widget=forms.RadioSelect,
    )
    duration_minutes = forms.IntegerField(
        label=_("所要時間（分）"),
        initial=30,
        widget=forms.NumberInput(attrs={"step": 5, "inputmode": "numeric"}),
    )
    topics = forms.MultipleChoiceField(
        label=_("相談分野"),
        choices=Topic.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("相談分野を1つ以上選んでください。")},
    )
    ip_types = forms.MultipleChoiceField(
        label=_("知財の種類"),
        choices=IpType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    summary = forms.CharField(
        label=_("相談内容"), widget=forms.Textarea(attrs={"rows": 4})
    )
    advice = forms.CharField(
        label=_("助言内容"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_action = forms.CharField(
        label=_("次のアクション"), max_length=200, required=False
    )
    follow_up_on = forms.DateField(
        label=_("フォローアップ日"), required=False, widget=DATE_WIDGET
    )
    attendees = forms.MultipleChoiceField(
        label=_("同席組織（相互同席）"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confidential = forms.BooleanField(
        label=_("秘匿（営業秘密・紛争など）"), required=False
    )

    def __init__(self, *args, case_choices=(), attendee_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = [("", _("新しい案件を開く")), *case_choices]
        self.fields["attendees"].choices = list(attendee_choices)

    def clean(self):
        cleaned = super().clean()
        # Browsers post textarea line breaks as CRLF; store LF like the API.
        for name in ("summary", "advice"):
            if isinstance(cleaned.get(name), str):
                cleaned[name] = cleaned[name].replace("\r\n", "\n")
        return cleaned

    def occurred_at(self) -> datetime:
        """Return the consultation's start as an aware datetime (Asia/Tokyo)."""
        return timezone.make_aware(
            datetime.combine(
                self.cleaned_data["occurred_on"], self.cleaned_data["occurred_time"]
            )
        )


def attendee_choices(organisation: Organisation | None) -> list[tuple[str, str]]:
    """Return the organisations offered for joint attendance (相互同席).

    Partners in the same prefecture come first (よろず拠点 and INPIT 窓口
    attend together most often), then the national and regional ones.
    """
    qs = Organisation.objects.filter(is_active=True, is_network_member=True)
    if organisation is not None:
        qs = qs.exclude(pk=organisation.pk)
        if organisation.prefecture_id:
            qs = qs.filter(prefecture_id=organisation.prefecture_id)
        elif organisation.region_id:
            qs = qs.filter(region_id=organisation.region_id)
    return [(o.code, o.name) for o in qs.order_by("kind", "code")[:40]]


class OutcomeForm(forms.Form):
    """An outcome of a case (filing, registration, licence, financing, subsidy)."""

    kind = forms.ChoiceField(label=_("成果の種類"), choices=OutcomeKind.choices)
    occurred_on = forms.DateField(
        label=_("日付"), initial=timezone.localdate, widget=DATE_WIDGET
    )
    ip_type = forms.ChoiceField(
        label=_("知財の種類"),
        choices=[("", "—"), *IpType.choices],
        required=False,
    )
    reference = forms.CharField(
        label=_("番号（出願番号・登録番号など）"), max_length=60, required=False
    )
    amount_yen = forms.IntegerField(label=_("金額（円）"), min_value=0, required=False)
    note = forms.CharField(
        label=_("メモ"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
