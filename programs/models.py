"""Support programs, their fiscal-year rounds, enrolments and support days.

Program rules (eligibility, durations, quotas, subsidy rates) are data in
`Program.rules`, seeded from seeds/data/programs.json
(reference/programs.md), so an administrator can adjust them without code.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Case, Company, Referral
from programs.choices import EnrolmentStatus, ProgramCode, ProgramKind, Scheme, TeamRole
from support_network.models import Membership, Organisation, TimestampedModel


class Program(TimestampedModel):
    """A support program (IPAS, iAca, …) or subsidy scheme (外国出願 …)."""

    Code = ProgramCode
    Kind = ProgramKind

    code = models.SlugField(_("コード"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    short_name = models.CharField(_("略称"), max_length=60, blank=True)
    kind = models.CharField(_("種別"), max_length=20, choices=ProgramKind.choices)
    operator = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="operated_programs",
        verbose_name=_("実施機関"),
    )
    description = models.TextField(_("概要"), blank=True)
    rules = models.JSONField(_("ルール"), default=dict, blank=True)
    source = models.CharField(_("出典"), max_length=200, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)

    class Meta:
        verbose_name = _("支援事業")
        verbose_name_plural = _("支援事業")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ProgramKind.values),
                name="programs_program_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProgramRound(TimestampedModel):
    """One fiscal year's round of a program, with its capacity."""

    program = models.ForeignKey(
        Program,
        on_delete=models.CASCADE,
        related_name="rounds",
        verbose_name=_("支援事業"),
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    capacity = models.PositiveIntegerField(_("採択枠"))
    opens_on = models.DateField(_("受付開始日"), null=True, blank=True)
    closes_on = models.DateField(_("受付終了日"), null=True, blank=True)

    class Meta:
        verbose_name = _("募集回（年度）")
        verbose_name_plural = _("募集回（年度）")
        ordering = ["program__code", "fiscal_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "fiscal_year"],
                name="programs_programround_unique_fy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.fiscal_year}年度"


class Enrolment(TimestampedModel):
    """A company's participation in a program round."""

    Status = EnrolmentStatus
    Scheme = Scheme

    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        related_name="enrolments",
        verbose_name=_("支援事業"),
    )
    round = models.ForeignKey(
        ProgramRound,
        on_delete=models.PROTECT,
        related_name="enrolments",
        verbose_name=_("募集回"),
    )
    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="enrolments",
        verbose_name=_("企業等"),
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrolments",
        verbose_name=_("案件"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="enrolments_applied",
        verbose_name=_("申込組織"),
    )
    # The referral that handed the case to the program's operator when the
    # application was made through the referral flow (支援事業へ紹介).
    referral = models.ForeignKey(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrolments",
        verbose_name=_("紹介"),
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("申込者"),
    )
    scheme = models.CharField(
        _("類型"), max_length=1, choices=Scheme.choices, blank=True
    )
    status = models.CharField(
        _("状態"),
        max_length=20,
        choices=EnrolmentStatus.choices,
        default=EnrolmentStatus.APPLIED,
    )
    joint_research_yen_per_year = models.BigIntegerField(
        _("共同研究費（円／年）"), null=True, blank=True
    )
    started_on = models.DateField(_("支援開始日"), null=True, blank=True)
    ends_on = models.DateField(_("支援終了予定日"), null=True, blank=True)
    period = models.PositiveSmallIntegerField(_("支援期"), default=1)
    days_used = models.DecimalField(
        _("使用日数"), max_digits=5, decimal_places=1, default=0
    )

    class Meta:
        verbose_name = _("事業への参加")
        verbose_name_plural = _("事業への参加")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EnrolmentStatus.values),
                name="programs_enrolment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(scheme__in=["", *Scheme.values]),
                name="programs_enrolment_scheme_valid",
            ),
            models.CheckConstraint(
                condition=Q(days_used__gte=0),
                name="programs_enrolment_days_not_negative",
            ),
        ]
        indexes = [
            # Capacity check: accepted/active/completed enrolments of a round.
            models.Index(fields=["round", "status"], name="programs_enrol_round_idx"),
            models.Index(
                fields=["company", "program"], name="programs_enrol_company_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} / {self.company}"


class TeamMember(models.Model):
    """An expert on an enrolment's support team (IPAS: IP + business expert)."""

    Role = TeamRole

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="team", verbose_name=_("参加")
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("専門家")
    )
    role = models.CharField(_("役割"), max_length=20, choices=TeamRole.choices)

    class Meta:
        verbose_name = _("支援チームの専門家")
        verbose_name_plural = _("支援チーム")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "membership"], name="programs_teammember_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership} ({self.get_role_display()})"


class SupportPlan(TimestampedModel):
    """The support plan with goals for one period of an enrolment."""

    enrolment = models.ForeignKey(
        Enrolment,
        on_delete=models.CASCADE,
        related_name="plans",
        verbose_name=_("参加"),
    )
    period = models.PositiveSmallIntegerField(_("支援期"), default=1)
    goals = models.TextField(_("目標"))
    is_achieved = models.BooleanField(_("達成"), default=False)
    # iAca: the period's day quota may be set between rules.day_quota
    # .min_configurable and .days (25–30, reference/programs.md §4).
    day_quota_days = models.PositiveSmallIntegerField(
        _("この期の支援日数の上限"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("支援計画")
        verbose_name_plural = _("支援計画")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "period"],
                name="programs_supportplan_unique_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} 第{self.period}期"


class SupportDay(TimestampedModel):
    """Days of expert support given on a date, counted against the quota."""

    enrolment = models.ForeignKey(
        Enrolment,
        on_delete=models.CASCADE,
        related_name="support_days",
        verbose_name=_("参加"),
    )
    date = models.DateField(_("日付"))
    fiscal_year = models.PositiveSmallIntegerField(_("年度"), editable=False)
    period = models.PositiveSmallIntegerField(_("支援期"), default=1)
    days = models.DecimalField(_("日数"), max_digits=3, decimal_places=1)
    note = models.TextField(_("内容"), blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("記録者"),
    )

    class Meta:
        verbose_name = _("支援日")
        verbose_name_plural = _("支援日")
        constraints = [
            models.CheckConstraint(
                condition=Q(days__gt=0) & Q(days__lte=1),
                name="programs_supportday_days_range",
            ),
        ]
        indexes = [
            models.Index(
                fields=["enrolment", "fiscal_year"], name="programs_sday_fy_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.days}日"
