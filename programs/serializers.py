"""API shapes of programs."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.choices import IpType, Topic
from programs.choices import EnrolmentStatus, Scheme
from programs.models import Enrolment, Program, ProgramRound, SupportDay, SupportPlan

# DRF ships no Japanese text for this message.
BOOLEAN_ERRORS = {"invalid": _("true または false で入力してください。")}


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


# --------------------------------------------------------------------------------------
# Enrolments (shape only: eligibility, capacity and quotas live in services)
# --------------------------------------------------------------------------------------


class EnrolmentReferralInputSerializer(serializers.Serializer):
    """The referral to the program's operator sent with an application."""

    reason = serializers.CharField(max_length=5000)
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=Topic.choices),
        allow_empty=False,
        max_length=20,
    )


class EnrolmentInputSerializer(serializers.Serializer):
    """POST enrolments/ (API.md), plus is_national_project for iNat and referral."""

    program = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Program.objects.filter(is_active=True),
        error_messages={
            "does_not_exist": _("支援事業「{value}」は登録されていません。"),
            "invalid": _("支援事業のコードを入力してください。"),
        },
    )
    fiscal_year = serializers.IntegerField(min_value=2000, max_value=2100)
    company = serializers.IntegerField(min_value=1)
    scheme = serializers.ChoiceField(
        choices=Scheme.choices, required=False, allow_blank=True
    )
    joint_research_yen_per_year = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10**15
    )
    case = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    is_national_project = serializers.BooleanField(
        required=False,
        default=False,
        error_messages=BOOLEAN_ERRORS,
        help_text=_(
            "iNat: 国プロ（競争的研究費による研究開発プロジェクト）を推進する申込であること"
        ),
    )
    confirmed_conditions = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=10,
        help_text=_(
            "事業の確認条件（rules.conditions の code）のうち、申込者が該当すると"
            "確認したもの（例: VC-IPAS の startup_supporter）"
        ),
    )
    referral = EnrolmentReferralInputSerializer(
        required=False,
        allow_null=True,
        help_text=_(
            "支援事業へ紹介: 案件（case）を実施機関へ紹介し、同じトランザクションで"
            "申し込む（同意がなければ 409 consent_required、何も書き込まない）"
        ),
    )

    def validate(self, attrs):
        if attrs.get("referral") and not attrs.get("case"):
            raise serializers.ValidationError(
                {"case": [_("紹介して申し込むときは案件（case）を指定してください。")]}
            )
        return attrs


class EnrolmentTransitionInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=EnrolmentStatus.choices)
    started_on = serializers.DateField(
        required=False,
        help_text="実施中にするとき: 支援の実際の開始日（今日以前、その年度内）",
    )


class SupportPlanInputSerializer(serializers.Serializer):
    goals = serializers.CharField(max_length=10_000)
    achieved = serializers.BooleanField(
        required=False, allow_null=True, default=None, error_messages=BOOLEAN_ERRORS
    )
    day_quota = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=365,
        help_text=_("iAca: この期の支援日数の上限（25〜30日）"),
    )


class SupportDayInputSerializer(serializers.Serializer):
    date = serializers.DateField()
    days = serializers.DecimalField(
        max_digits=3, decimal_places=1, help_text=_("0.5 または 1")
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SupportPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupportPlan
        fields = [
            "id",
            "enrolment",
            "period",
            "goals",
            "is_achieved",
            "day_quota_days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SupportDaySerializer(serializers.ModelSerializer):
    days = serializers.DecimalField(
        max_digits=3, decimal_places=1, coerce_to_string=False, read_only=True
    )

    class Meta:
        model = SupportDay
        fields = [
            "id",
            "enrolment",
            "date",
            "fiscal_year",
            "period",
            "days",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class EnrolmentSerializer(serializers.ModelSerializer):
    """An enrolment with the plan of its current support period."""

    program = serializers.SlugRelatedField(slug_field="code", read_only=True)
    program_label = serializers.CharField(source="program.name", read_only=True)
    fiscal_year = serializers.IntegerField(source="round.fiscal_year", read_only=True)
    company_name = serializers.CharField(source="company.name", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    scheme = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    days_used = serializers.DecimalField(
        max_digits=5, decimal_places=1, coerce_to_string=False, read_only=True
    )
    plan = serializers.SerializerMethodField()
    case = serializers.SerializerMethodField(
        help_text=_("案件 ID。実施機関が閲覧できない案件（秘匿案件など）のときは null")
    )
    referral = serializers.SerializerMethodField(
        help_text=_("実施機関への紹介 ID。案件を閲覧できないときは null")
    )

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "program",
            "program_label",
            "fiscal_year",
            "company",
            "company_name",
            "case",
            "organisation",
            "scheme",
            "status",
            "status_label",
            "started_on",
            "ends_on",
            "period",
            "days_used",
            "joint_research_yen_per_year",
            "referral",
            "plan",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    # docs/visibility.md "Enrolments": an operator who may not see the case
    # sees the application, not the case (enrolments_visible_to).
    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_case(self, obj) -> int | None:
        return obj.case_id if getattr(obj, "case_is_visible", False) else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_referral(self, obj) -> int | None:
        return obj.referral_id if getattr(obj, "case_is_visible", False) else None

    @extend_schema_field(
        serializers.ChoiceField(choices=Scheme.choices, allow_null=True)
    )
    def get_scheme(self, obj) -> str | None:
        return obj.scheme or None

    @extend_schema_field(SupportPlanSerializer(allow_null=True))
    def get_plan(self, obj):
        plan = next((p for p in obj.plans.all() if p.period == obj.period), None)
        return SupportPlanSerializer(plan).data if plan is not None else None


# --------------------------------------------------------------------------------------
# Subsidy estimates
# --------------------------------------------------------------------------------------


class EstimateItemInputSerializer(serializers.Serializer):
    right = serializers.ChoiceField(choices=IpType.choices)
    cost_yen = serializers.IntegerField(min_value=0, max_value=10**12)
    renewal = serializers.BooleanField(
        required=False, default=False, error_messages=BOOLEAN_ERRORS
    )
    squatting_countermeasure = serializers.BooleanField(
        required=False,
        default=False,
        error_messages=BOOLEAN_ERRORS,
        help_text=_("冒認対策商標の出願（1件上限が別: 外国出願では30万円）"),
    )


class EstimateInputSerializer(serializers.Serializer):
    """POST programs/{code}/estimate/ (API.md)."""

    company = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    fiscal_year = serializers.IntegerField(min_value=2000, max_value=2100)
    items = EstimateItemInputSerializer(many=True, allow_empty=False, max_length=100)
    confirmed_conditions = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=10,
        help_text=_(
            "事業の確認条件（rules.conditions の code）のうち、企業等が該当すると"
            "確認したもの（例: 海外知財訴訟保険の association_member）"
        ),
    )


class EstimateItemSerializer(serializers.Serializer):
    right = serializers.CharField()
    cost_yen = serializers.IntegerField()
    renewal = serializers.BooleanField()
    squatting_countermeasure = serializers.BooleanField()
    rate = serializers.CharField(help_text=_("補助率（例: 1/2）"))
    eligible_yen = serializers.IntegerField(help_text=_("補助見込額（円、切り捨て）"))
    explanation = serializers.CharField()


class EstimateSerializer(serializers.Serializer):
    items = EstimateItemSerializer(many=True)
    total_yen = serializers.IntegerField()
    company_cap_yen = serializers.IntegerField(
        allow_null=True, help_text=_("1企業あたりの上限（なければ null）")
    )
    already_granted_yen = serializers.IntegerField(
        help_text=_(
            "上限の対象期間に交付済みの額（成果「補助金採択」で参照が事業コードのもの）"
        )
    )
    company_cap_remaining_yen = serializers.IntegerField(
        allow_null=True,
        help_text=_("この見積もりの前の、1企業あたりの上限の残り（なければ null）"),
    )
