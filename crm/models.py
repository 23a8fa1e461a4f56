"""Clients and their cases: companies, consents, cases, consultations, referrals.

Models hold fields, constraints and pure properties of their own row; rules
live in crm/services/ and visibility in crm/selectors/visibility.py (STYLE.md §2).
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import (
    TOPIC_NUMBERS,
    CaseStatus,
    Channel,
    CompanyKind,
    ConsentMethod,
    ConsentScope,
    EventKind,
    FollowUpStatus,
    IpType,
    OutcomeKind,
    ReferralStatus,
    SizeClass,
    Topic,
)
from crm.rules.company_size import is_startup
from support_network.models import Organisation, Prefecture, TimestampedModel

USER = settings.AUTH_USER_MODEL


class Company(TimestampedModel):
    """A client: company, sole proprietor, university, investor, ….

    Public master data (法人番号, name, kana, kind, prefecture, city) is shared
    by the whole network; the rest follows the case visibility rules.
    """

    Kind = CompanyKind
    SizeClass = SizeClass

    # NULL, not "", when absent: the partial unique constraint skips NULLs.
    corporate_number = models.CharField(  # noqa: DJ001
        _("法人番号"), max_length=13, null=True, blank=True
    )
    name = models.CharField(_("名称"), max_length=200)
    name_kana = models.CharField(_("フリガナ"), max_length=200, blank=True)
    # Derived search keys (crm.rules), written by the services on every save.
    name_norm = models.CharField(_("正規化名称"), max_length=200, editable=False)
    name_key = models.CharField(_("名称キー"), max_length=200, editable=False)
    kana_key = models.CharField(
        _("読みキー"), max_length=200, editable=False, blank=True
    )
    kind = models.CharField(_("種別"), max_length=30, choices=CompanyKind.choices)
    prefecture = models.ForeignKey(
        Prefecture,
        on_delete=models.PROTECT,
        related_name="companies",
        verbose_name=_("都道府県"),
    )
    city = models.CharField(_("市区町村"), max_length=60, blank=True)
    industry = models.CharField(_("業種（日本標準産業分類）"), max_length=5, blank=True)
    capital_yen = models.BigIntegerField(_("資本金（円）"), null=True, blank=True)
    employees = models.PositiveIntegerField(
        _("常時使用する従業員数"), null=True, blank=True
    )
    founded_on = models.DateField(_("設立・創業日"), null=True, blank=True)
    controlled_by_large_company = models.BooleanField(
        _("大企業の支配下にある"), default=False
    )
    size_class = models.CharField(
        _("企業規模"),
        max_length=10,
        choices=SizeClass.choices,
        default=SizeClass.UNKNOWN,
        editable=False,
    )
    registered_by = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_companies",
        verbose_name=_("登録組織"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_companies",
        verbose_name=_("統合先"),
    )

    # The import (crm.Import) that created this row and its line in the file;
    # undo deletes by it. A plain id, not a key: the row outlives the import.
    import_id = models.PositiveBigIntegerField(
        _("取込ID"), null=True, blank=True, editable=False
    )
    source_line = models.PositiveIntegerField(
        _("取込元の行"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("企業等")
        verbose_name_plural = _("企業等")
        constraints = [
            models.UniqueConstraint(
                fields=["corporate_number"],
                condition=Q(corporate_number__isnull=False),
                name="crm_company_corporate_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(corporate_number__isnull=True)
                | Q(corporate_number__regex=r"^[1-9][0-9]{12}$"),
                name="crm_company_corporate_number_format",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CompanyKind.values),
                name="crm_company_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(size_class__in=SizeClass.values),
                name="crm_company_size_class_valid",
            ),
            models.CheckConstraint(
                condition=Q(capital_yen__isnull=True) | Q(capital_yen__gte=0),
                name="crm_company_capital_not_negative",
            ),
        ]
        indexes = [
            # Undo of an import (crm.services.imports.import_undo).
            models.Index(
                fields=["import_id"],
                condition=Q(import_id__isnull=False),
                name="crm_company_import_idx",
            ),
            # Duplicate candidates: normalised name + prefecture.
            models.Index(
                fields=["name_key", "prefecture"], name="crm_company_key_pref_idx"
            ),
            # Prefix search on the normalised name (trigram GIN on PostgreSQL
            # is added by migration 0002 for infix search).
            models.Index(fields=["name_norm"], name="crm_company_name_norm_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_startup(self) -> bool:
        """Return the JPO startup flag as of today (reference/sme_definitions.md §4)."""
        return is_startup(
            kind=self.kind,
            founded_on=self.founded_on,
            employees=self.employees,
            capital_yen=self.capital_yen,
            industry=self.industry or None,
            controlled_by_large_company=self.controlled_by_large_company,
            today=timezone.localdate(),
        )


class Contact(TimestampedModel):
    """A person at a client company (担当者), recorded by one organisation."""

    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("企業等"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("登録組織"),
    )
    name = models.CharField(_("氏名"), max_length=100)
    name_kana = models.CharField(_("フリガナ"), max_length=100, blank=True)
    title = models.CharField(_("役職"), max_length=100, blank=True)
    email = models.EmailField(_("メールアドレス"), blank=True)
    phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    # Set when the personal items were replaced by the marker (retention
    # sweep or an erase request, APPI art. 35); the erased values are kept
    # nowhere.
    anonymised_at = models.DateTimeField(_("匿名化日時"), null=True, blank=True)
    # Set from the opt-out link of a survey e-mail: no more surveys.
    surveys_opted_out_at = models.DateTimeField(
        _("満足度調査の配信停止日時"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("担当者")
        verbose_name_plural = _("担当者")
        indexes = [
            models.Index(
                fields=["company", "organisation"], name="crm_contact_company_idx"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Consent(TimestampedModel):
    """A company's consent to share its data with third parties (APPI art. 27)."""

    Scope = ConsentScope
    Method = ConsentMethod

    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="consents",
        verbose_name=_("企業等"),
    )
    scope = models.CharField(_("範囲"), max_length=20, choices=ConsentScope.choices)
    organisations = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="consents_covering",
        verbose_name=_("提供先組織"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,  # the consent outlives the contact record
        null=True,
        blank=True,
        related_name="consents",
        verbose_name=_("同意した担当者"),
    )
    obtained_on = models.DateField(_("取得日"))
    method = models.CharField(
        _("取得方法"), max_length=20, choices=ConsentMethod.choices
    )
    recorded_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("記録者")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="consents_recorded",
        verbose_name=_("記録組織"),
    )
    withdrawn_at = models.DateTimeField(_("撤回日時"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("撤回の記録者"),
    )
    # The company agrees to be asked about the help it got (満足度調査).
    allows_surveys = models.BooleanField(_("満足度調査の依頼に同意"), default=False)

    class Meta:
        verbose_name = _("第三者提供の同意")
        verbose_name_plural = _("第三者提供の同意")
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=ConsentScope.values),
                name="crm_consent_scope_valid",
            ),
            models.CheckConstraint(
                condition=Q(method__in=ConsentMethod.values),
                name="crm_consent_method_valid",
            ),
        ]
        indexes = [
            # Active consent look-up per company (hub visibility, referral send).
            models.Index(
                fields=["company", "scope"],
                condition=Q(withdrawn_at__isnull=True),
                name="crm_consent_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} ({self.get_scope_display()})"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class Case(TimestampedModel):
    """A support case of one company, owned by one organisation."""

    Status = CaseStatus

    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("企業等"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("担当組織"),
    )
    title = models.CharField(_("件名"), max_length=200)
    status = models.CharField(
        _("状態"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    is_confidential = models.BooleanField(
        _("秘匿"),
        default=False,
        help_text=_("営業秘密・紛争など。担当者・管理者と紹介先だけが閲覧できます。"),
    )
    assignee = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,  # a departed user leaves the case unassigned
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("担当者"),
    )
    created_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("作成者")
    )
    opened_on = models.DateField(_("開始日"), default=timezone.localdate)
    closed_on = models.DateField(_("終了日"), null=True, blank=True)
    closing_note = models.TextField(_("完了メモ"), blank=True)
    closed_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,  # the trail (audit) outlives the account
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("完了にした人"),
    )
    # Legal hold (法的保全): the retention sweep skips the case while it holds.
    is_on_legal_hold = models.BooleanField(_("法的保全中"), default=False)
    legal_hold_reason = models.CharField(_("法的保全の理由"), max_length=200, blank=True)
    legal_hold_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,  # the trail (audit) outlives the account
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("法的保全の設定者"),
    )
    legal_hold_at = models.DateTimeField(_("法的保全の設定日時"), null=True, blank=True)
    # Set when the retention sweep anonymised the case's free text.
    anonymised_at = models.DateTimeField(_("匿名化日時"), null=True, blank=True)

    # The import (crm.Import) that created this row and its line in the file;
    # undo deletes by it. A plain id, not a key: the row outlives the import.
    import_id = models.PositiveBigIntegerField(
        _("取込ID"), null=True, blank=True, editable=False
    )
    source_line = models.PositiveIntegerField(
        _("取込元の行"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CaseStatus.values), name="crm_case_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(closed_on__gte=models.F("opened_on")),
                name="crm_case_closed_after_opened",
            ),
        ]
        indexes = [
            # Undo of an import (crm.services.imports.import_undo).
            models.Index(
                fields=["import_id"],
                condition=Q(import_id__isnull=False),
                name="crm_case_import_idx",
            ),
            # cases/ list, organisation scope, keyset on (-opened_on, -id).
            models.Index(
                fields=["organisation", "-opened_on", "-id"],
                name="crm_case_org_opened_idx",
            ),
            # A company's cases (timeline, open case default).
            models.Index(fields=["company", "status"], name="crm_case_company_idx"),
            # The retention sweep: closed cases not yet anonymised, by close date.
            models.Index(
                fields=["closed_on", "id"],
                condition=Q(anonymised_at__isnull=True, closed_on__isnull=False),
                name="crm_case_retention_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Consultation(TimestampedModel):
    """A consultation record (相談記録)."""

    Channel = Channel

    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="consultations",
        verbose_name=_("案件"),
    )
    # Denormalised from the case for statistics (GROUP BY without a join).
    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="consultations",
        verbose_name=_("企業等"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="consultations",
        verbose_name=_("対応組織"),
    )
    author = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="consultations",
        verbose_name=_("記録者"),
    )
    occurred_at = models.DateTimeField(_("相談日時"))
    # The JST date and its fiscal year, fixed at write time for statistics.
    occurred_on = models.DateField(_("相談日"), editable=False)
    fiscal_year = models.PositiveSmallIntegerField(_("年度"), editable=False)
    channel = models.CharField(_("相談方法"), max_length=10, choices=Channel.choices)
    duration_minutes = models.PositiveIntegerField(_("所要時間（分）"))
    summary = models.TextField(_("相談内容"))
    advice = models.TextField(_("助言内容"), blank=True)
    next_action = models.CharField(_("次のアクション"), max_length=200, blank=True)
    is_confidential = models.BooleanField(_("秘匿"), default=False)
    # True on the company's first consultation anywhere in the network
    # (earliest occurred_at, then id). Kept by the consultation and merge
    # services; statistics count new companies from it without a join.
    is_company_first = models.BooleanField(_("初回相談"), default=False, editable=False)
    attendees = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="attended_consultations",
        verbose_name=_("同席組織（相互同席）"),
    )

    # The import (crm.Import) that created this row and its line in the file;
    # undo deletes by it. A plain id, not a key: the row outlives the import.
    import_id = models.PositiveBigIntegerField(
        _("取込ID"), null=True, blank=True, editable=False
    )
    source_line = models.PositiveIntegerField(
        _("取込元の行"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("相談記録")
        verbose_name_plural = _("相談記録")
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="crm_consultation_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__lte=24 * 60),
                name="crm_consultation_duration_within_day",
            ),
        ]
        indexes = [
            # Undo of an import (crm.services.imports.import_undo).
            models.Index(
                fields=["import_id"],
                condition=Q(import_id__isnull=False),
                name="crm_consult_import_idx",
            ),
            # consultations/ list, organisation scope, keyset on (-occurred_at, -id).
            models.Index(
                fields=["organisation", "-occurred_at", "-id"],
                name="crm_consult_org_time_idx",
            ),
            # Statistics per fiscal year.
            models.Index(
                fields=["fiscal_year", "organisation"], name="crm_consult_fy_org_idx"
            ),
            # Case timeline and company history.
            models.Index(fields=["case", "-occurred_at"], name="crm_consult_case_idx"),
            models.Index(
                fields=["company", "occurred_at"], name="crm_consult_company_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} {self.occurred_on}"


class ConsultationFact(models.Model):
    """One statistics row per consultation and topic (a star-schema fact).

    Derived data, written only by crm/statistics/facts.py whenever a
    consultation, its topics, its company's first-consultation mark or its
    organisation's place changes. It carries the handling organisation's
    prefecture, region and kind so that a national fiscal year groups by
    prefecture × topic on one index, without joins (DESIGN.md targets).
    A consultation without topics has one row with no topic; `is_primary`
    marks exactly one row per consultation, so totals count it once.
    """

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="facts"
    )
    company = models.ForeignKey(
        Company, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    # The handling organisation's prefecture as its JIS number (13 = 東京都),
    # None for a national organisation; smallints group faster than text.
    prefecture_no = models.PositiveSmallIntegerField(null=True)
    region_id = models.CharField(max_length=20, blank=True)  # "" national
    organisation_kind = models.CharField(max_length=30)
    fiscal_year = models.PositiveSmallIntegerField()
    month = models.PositiveIntegerField()  # YYYYMM of the JST date
    channel = models.CharField(max_length=10)
    # crm.choices.TOPIC_NUMBERS; NO_TOPIC_NUMBER (0) without topics.
    topic_no = models.PositiveSmallIntegerField()
    is_primary = models.BooleanField(default=False)
    is_company_first = models.BooleanField()
    # よろず連携 (crm.statistics.consultations.yorozu_link_q), set by the facts service.
    is_yorozu_link = models.BooleanField(default=False)
    minutes = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("統計用相談行")
        verbose_name_plural = _("統計用相談行")
        indexes = [
            # National / regional fiscal year by prefecture × topic: an
            # index-only scan already in group order.
            models.Index(
                fields=["fiscal_year", "prefecture_no", "topic_no", "company"],
                include=["is_company_first", "minutes", "organisation"],
                name="crm_fact_fy_pref_topic_idx",
            ),
            # Totals and the dimensions without topic: one row per
            # consultation (prefecture in order; month for the month chart).
            models.Index(
                fields=["fiscal_year", "prefecture_no", "company"],
                include=[
                    "is_company_first",
                    "minutes",
                    "organisation",
                    "month",
                    "is_yorozu_link",
                ],
                condition=Q(is_primary=True),
                name="crm_fact_fy_primary_idx",
            ),
            models.Index(
                fields=["fiscal_year", "organisation"], name="crm_fact_fy_org_idx"
            ),
        ]

    def __str__(self) -> str:
        topic = next(
            (str(t) for t, n in TOPIC_NUMBERS.items() if n == self.topic_no), ""
        )
        return f"{self.consultation_id} {topic}".strip()


class ConsultationTopic(models.Model):
    """One topic of a consultation; a consultation counts once per topic."""

    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.CASCADE,
        related_name="topics",
        verbose_name=_("相談記録"),
    )
    topic = models.CharField(_("相談分野"), max_length=20, choices=Topic.choices)

    class Meta:
        verbose_name = _("相談分野")
        verbose_name_plural = _("相談分野")
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "topic"], name="crm_consultationtopic_unique"
            ),
            models.CheckConstraint(
                condition=Q(topic__in=Topic.values),
                name="crm_consultationtopic_topic_valid",
            ),
        ]
        indexes = [models.Index(fields=["topic"], name="crm_consult_topic_idx")]

    def __str__(self) -> str:
        return self.get_topic_display()


class ConsultationIpType(models.Model):
    """One IP type a consultation concerned."""

    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.CASCADE,
        related_name="ip_types",
        verbose_name=_("相談記録"),
    )
    ip_type = models.CharField(_("知財の種類"), max_length=20, choices=IpType.choices)

    class Meta:
        verbose_name = _("知財の種類")
        verbose_name_plural = _("知財の種類")
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "ip_type"], name="crm_consultationiptype_unique"
            ),
            models.CheckConstraint(
                condition=Q(ip_type__in=IpType.values),
                name="crm_consultationiptype_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.get_ip_type_display()


class Referral(TimestampedModel):
    """A closed-loop referral of a case to another organisation."""

    Status = ReferralStatus

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("案件")
    )
    from_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="referrals_sent",
        verbose_name=_("紹介元"),
    )
    to_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("紹介先"),
    )
    sent_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("紹介者")
    )
    reason = models.TextField(_("紹介理由"))
    status = models.CharField(
        _("状態"),
        max_length=10,
        choices=ReferralStatus.choices,
        default=ReferralStatus.SENT,
    )
    consent = models.ForeignKey(
        Consent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("根拠とした同意"),
    )
    sent_at = models.DateTimeField(_("紹介日時"), default=timezone.now)
    respond_by = models.DateField(_("回答期限"))
    answered_at = models.DateTimeField(_("回答日時"), null=True, blank=True)
    answered_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回答者"),
    )
    # Business days from sending to the answer (accept/decline), set by the
    # service when it answers; statistics take the median in the database.
    answer_business_days = models.PositiveSmallIntegerField(
        _("回答までの営業日数"), null=True, blank=True, editable=False
    )
    answer_note = models.TextField(_("回答メモ"), blank=True)
    completed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    outcome_note = models.TextField(_("結果報告"), blank=True)
    closed_at = models.DateTimeField(_("取消・期限切れ日時"), null=True, blank=True)
    closed_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("取消者"),
    )
    reminded_at = models.DateTimeField(_("催促日時"), null=True, blank=True)
    escalated_at = models.DateTimeField(
        _("エスカレーション日時"), null=True, blank=True
    )
    # The receiving side's member in charge (set on accept, or assigned).
    assignee = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_assigned",
        verbose_name=_("紹介先の担当者"),
    )

    class Meta:
        verbose_name = _("紹介")
        verbose_name_plural = _("紹介")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values),
                name="crm_referral_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(from_organisation=models.F("to_organisation")),
                name="crm_referral_not_to_self",
            ),
        ]
        indexes = [
            models.Index(
                fields=["to_organisation", "status", "-sent_at"],
                name="crm_referral_in_idx",
            ),
            models.Index(
                fields=["from_organisation", "status", "-sent_at"],
                name="crm_referral_out_idx",
            ),
            # Visibility: "was this case referred to my organisation?"
            models.Index(
                fields=["case", "to_organisation"], name="crm_referral_case_idx"
            ),
            # Statistics per fiscal year of sending.
            models.Index(fields=["sent_at"], name="crm_referral_sent_idx"),
            # referrals/?assignee=me
            models.Index(
                fields=["assignee", "status"], name="crm_referral_assignee_idx"
            ),
            # Reminder sweep over unanswered referrals.
            models.Index(
                fields=["respond_by"],
                condition=Q(status="sent"),
                name="crm_referral_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_organisation} → {self.to_organisation}"

    def is_overdue_on(self, today: date) -> bool:
        """Return whether it waits for an answer past its deadline (回答期限).

        The one "overdue" rule; `overdue_q` is the same rule for queries.
        """
        return self.status == ReferralStatus.SENT and self.respond_by < today

    @staticmethod
    def overdue_q(today: date, prefix: str = "") -> models.Q:
        """Return the filter of referrals overdue on *today* (see is_overdue_on)."""
        return models.Q(
            **{f"{prefix}status": ReferralStatus.SENT, f"{prefix}respond_by__lt": today}
        )


class ReferralTopic(models.Model):
    """One topic a referral is about."""

    referral = models.ForeignKey(
        Referral,
        on_delete=models.CASCADE,
        related_name="topics",
        verbose_name=_("紹介"),
    )
    topic = models.CharField(_("分野"), max_length=20, choices=Topic.choices)

    class Meta:
        verbose_name = _("紹介の分野")
        verbose_name_plural = _("紹介の分野")
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "topic"], name="crm_referraltopic_unique"
            ),
            models.CheckConstraint(
                condition=Q(topic__in=Topic.values),
                name="crm_referraltopic_topic_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.get_topic_display()


class ProvisionRecord(models.Model):
    """The record of a provision of personal data to a third party (APPI art. 29)."""

    referral = models.OneToOneField(
        Referral,
        on_delete=models.PROTECT,
        related_name="provision_record",
        verbose_name=_("紹介"),
    )
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("提供元"),
    )
    recipient = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("提供先"),
    )
    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("本人（企業等）"),
    )
    provided_on = models.DateField(_("提供日"))
    contacts = models.ManyToManyField(
        Contact, blank=True, related_name="+", verbose_name=_("提供した担当者情報")
    )
    items_shared = models.JSONField(_("提供した項目"), default=list)
    consent = models.ForeignKey(
        Consent,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("本人の同意"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("第三者提供記録")
        verbose_name_plural = _("第三者提供記録")
        indexes = [
            models.Index(
                fields=["provider", "-provided_on"], name="crm_provision_provider_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provided_on} {self.provider} → {self.recipient}"


class FollowUp(TimestampedModel):
    """A next action with a due date; the reminder sweep works from these rows."""

    Status = FollowUpStatus

    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("案件"),
    )
    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("相談記録"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("組織"),
    )
    assignee = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("担当者"),
    )
    due_on = models.DateField(_("期日"))
    note = models.CharField(_("内容"), max_length=200, blank=True)
    status = models.CharField(
        _("状態"),
        max_length=10,
        choices=FollowUpStatus.choices,
        default=FollowUpStatus.OPEN,
    )
    done_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    # Who completed it: the timeline names them, not the assignee.
    done_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("完了者"),
    )
    reminded_count = models.PositiveSmallIntegerField(_("リマインド回数"), default=0)
    last_reminded_on = models.DateField(_("最終リマインド日"), null=True, blank=True)
    escalated_at = models.DateTimeField(
        _("エスカレーション日時"), null=True, blank=True
    )

    # The import (crm.Import) that created this row and its line in the file;
    # undo deletes by it. A plain id, not a key: the row outlives the import.
    import_id = models.PositiveBigIntegerField(
        _("取込ID"), null=True, blank=True, editable=False
    )
    source_line = models.PositiveIntegerField(
        _("取込元の行"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("フォローアップ")
        verbose_name_plural = _("フォローアップ")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=FollowUpStatus.values),
                name="crm_followup_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open", done_at__isnull=True)
                | Q(status="done", done_at__isnull=False),
                name="crm_followup_done_at_matches_status",
            ),
        ]
        indexes = [
            # Undo of an import (crm.services.imports.import_undo).
            models.Index(
                fields=["import_id"],
                condition=Q(import_id__isnull=False),
                name="crm_followup_import_idx",
            ),
            # Reminder sweep: open follow-ups by due date.
            models.Index(
                fields=["due_on"],
                condition=Q(status="open"),
                name="crm_followup_due_idx",
            ),
            # follow-ups/?assignee=me&status=open
            models.Index(
                fields=["assignee", "status", "due_on"],
                name="crm_followup_assignee_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.due_on} {self.note}"

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None


class Outcome(TimestampedModel):
    """A result that followed support: filing, registration, licence, financing, …."""

    Kind = OutcomeKind

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="outcomes", verbose_name=_("案件")
    )
    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="outcomes",
        verbose_name=_("企業等"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="outcomes",
        verbose_name=_("記録組織"),
    )
    kind = models.CharField(_("種類"), max_length=20, choices=OutcomeKind.choices)
    ip_type = models.CharField(
        _("知財の種類"), max_length=20, choices=IpType.choices, blank=True
    )
    occurred_on = models.DateField(_("発生日"))
    reference = models.CharField(_("番号（出願番号等）"), max_length=60, blank=True)
    amount_yen = models.BigIntegerField(_("金額（円）"), null=True, blank=True)
    note = models.TextField(_("メモ"), blank=True)
    recorded_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("記録者")
    )

    class Meta:
        verbose_name = _("成果")
        verbose_name_plural = _("成果")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OutcomeKind.values), name="crm_outcome_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount_yen__isnull=True) | Q(amount_yen__gte=0),
                name="crm_outcome_amount_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "occurred_on"], name="crm_outcome_case_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"


class Notification(models.Model):
    """An in-app notification, also sent by e-mail.

    `dedupe_key` makes a reminder exactly-once: a second sweep that tries to
    record the same reminder hits the unique constraint.
    """

    recipient = models.ForeignKey(
        USER,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("宛先"),
    )
    kind = models.CharField(_("種類"), max_length=40)
    message = models.TextField(_("本文"))
    object_type = models.CharField(_("対象の種類"), max_length=40, blank=True)
    object_id = models.CharField(_("対象ID"), max_length=40, blank=True)
    # NULL for one-off notifications: the partial unique constraint skips them.
    dedupe_key = models.CharField(  # noqa: DJ001
        _("重複防止キー"), max_length=200, null=True, blank=True
    )
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    read_at = models.DateTimeField(_("既読日時"), null=True, blank=True)
    # The e-mail copy: `email_claimed_at` is the lease of the worker sending
    # it (another worker may take it over once the lease has run out), and
    # `emailed_at` is set only after the mail server accepted it.
    email_claimed_at = models.DateTimeField(
        _("メール送信の取得日時"), null=True, blank=True
    )
    emailed_at = models.DateTimeField(_("メール送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="crm_notification_dedupe_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"], name="crm_notification_inbox_idx"
            )
        ]

    def __str__(self) -> str:
        return self.message[:40]


class AuditEvent(models.Model):
    """Who did what to which object, when (views, changes, exports, logins)."""

    actor = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,  # the trail outlives the account
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("実行者"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("組織"),
    )
    action = models.CharField(_("操作"), max_length=40)
    object_type = models.CharField(_("対象の種類"), max_length=40, blank=True)
    object_id = models.CharField(_("対象ID"), max_length=40, blank=True)
    at = models.DateTimeField(_("日時"), default=timezone.now)
    data = models.JSONField(_("詳細"), default=dict, blank=True)

    class Meta:
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")
        indexes = [
            models.Index(fields=["organisation", "-at"], name="crm_audit_org_idx"),
            models.Index(
                fields=["object_type", "object_id"], name="crm_audit_object_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class Export(models.Model):
    """An export file built by a Celery task (statistics or row-level data).

    Only its requester, or an org admin of its organisation, may see it and
    download the file; the file is deleted after `expires_at` by a scheduled
    clean-up.
    """

    class Kind(models.TextChoices):
        CONSULTATIONS = "consultations", _("相談記録")
        CONSULTATION_STATISTICS = "consultation_statistics", _("相談統計")
        REFERRALS = "referrals", _("紹介")
        ENROLMENTS = "enrolments", _("支援事業の参加")
        DISCLOSURE = "disclosure", _("開示請求への回答")

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (xlsx)"
        CSV = "csv", "CSV"
        ZIP = "zip", "ZIP"

    class Encoding(models.TextChoices):
        UTF8_BOM = "utf-8-sig", _("UTF-8（BOM付き）")
        CP932 = "cp932", _("Shift_JIS（cp932）")

    class Status(models.TextChoices):
        PENDING = "pending", _("待機中")
        RUNNING = "running", _("作成中")
        DONE = "done", _("完了")
        FAILED = "failed", _("失敗")

    requested_by = models.ForeignKey(
        USER,
        on_delete=models.CASCADE,
        related_name="exports",
        verbose_name=_("依頼者"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="exports",
        verbose_name=_("組織"),
    )
    # The membership role the export was requested with (scope of the data).
    role = models.CharField(_("役割"), max_length=20)
    kind = models.CharField(_("種類"), max_length=30, choices=Kind.choices)
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    format = models.CharField(_("形式"), max_length=4, choices=Format.choices)
    encoding = models.CharField(
        _("文字コード"),
        max_length=10,
        choices=Encoding.choices,
        default=Encoding.UTF8_BOM,
    )
    # Extra parameters (e.g. group_by for statistics, scope).
    params = models.JSONField(_("条件"), default=dict, blank=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("進捗（%）"), default=0)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    # cp932 exports: characters that had to be replaced, counted.
    replaced_char_count = models.PositiveIntegerField(_("置換した文字数"), default=0)
    file_path = models.CharField(_("ファイル"), max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(_("ファイルサイズ"), default=0)
    error = models.TextField(_("エラー"), blank=True)
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    started_at = models.DateTimeField(_("開始日時"), null=True, blank=True)
    # Written every few seconds by the worker building the file: a running
    # export whose heartbeat stopped lost its worker and is built again.
    heartbeat_at = models.DateTimeField(_("最終応答日時"), null=True, blank=True)
    # Builds started (a reclaimed export counts again); capped, then failed.
    attempts = models.PositiveSmallIntegerField(_("作成の試行回数"), default=0)
    finished_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    expires_at = models.DateTimeField(_("有効期限"))

    class Meta:
        verbose_name = _("エクスポート")
        verbose_name_plural = _("エクスポート")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "done", "failed"]),
                name="crm_export_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="crm_export_progress_max"
            ),
        ]
        indexes = [
            # "My exports" list on the managers' page.
            models.Index(
                fields=["requested_by", "-created_at"], name="crm_export_mine_idx"
            ),
            # Scheduled clean-up of expired files.
            models.Index(fields=["expires_at"], name="crm_export_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.fiscal_year} {self.format}"


class RetentionPolicy(TimestampedModel):
    """How long an organisation keeps personal data after a case closed (保存期間).

    An organisation without a row keeps the default: DEFAULT_YEARS fiscal
    years after the fiscal year the case closed in, then the retention sweep
    (crm/services/retention.py) anonymises it.
    """

    DEFAULT_YEARS = 5

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="retention_policy",
        verbose_name=_("組織"),
    )
    years_after_close = models.PositiveSmallIntegerField(
        _("保存年数（案件終了後の年度数）"), default=DEFAULT_YEARS
    )
    is_active = models.BooleanField(_("有効"), default=True)
    updated_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,  # the trail (audit) outlives the account
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("更新者"),
    )

    class Meta:
        verbose_name = _("保存期間の設定")
        verbose_name_plural = _("保存期間の設定")
        constraints = [
            models.CheckConstraint(
                condition=Q(years_after_close__gte=1, years_after_close__lte=30),
                name="crm_retentionpolicy_years_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.years_after_close}"


class Event(TimestampedModel):
    """A network event: セミナー, 研修, 連携会議, 出張相談会, ….

    Its public facts (title, kind, date, place, hosts) are visible
    network-wide so windows can send companies to each other's events;
    registrations are seen only by the host and the co-hosts.
    """

    Kind = EventKind

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("主催組織"),
    )
    cohosts = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="events_cohosted",
        verbose_name=_("共催組織"),
    )
    title = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("種類"), max_length=20, choices=EventKind.choices)
    starts_at = models.DateTimeField(_("開始日時"))
    ends_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    # The JST date and fiscal year of the start, fixed at write time.
    starts_on = models.DateField(_("開催日"), editable=False)
    fiscal_year = models.PositiveSmallIntegerField(_("年度"), editable=False)
    place = models.CharField(_("会場"), max_length=200, blank=True)
    is_online = models.BooleanField(_("オンライン開催"), default=False)
    capacity = models.PositiveIntegerField(_("定員"), null=True, blank=True)
    created_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("登録者")
    )

    class Meta:
        verbose_name = _("イベント")
        verbose_name_plural = _("イベント")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="crm_event_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="crm_event_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="crm_event_capacity_positive",
            ),
        ]
        indexes = [
            # events/ list and statistics/events/ per fiscal year, newest first.
            models.Index(
                fields=["fiscal_year", "-starts_at", "-id"], name="crm_event_fy_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_on}"


class EventTopic(models.Model):
    """One topic (相談分野) an event is about."""

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="topics",
        verbose_name=_("イベント"),
    )
    topic = models.CharField(_("分野"), max_length=20, choices=Topic.choices)

    class Meta:
        verbose_name = _("イベントの分野")
        verbose_name_plural = _("イベントの分野")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "topic"], name="crm_eventtopic_unique"
            ),
            models.CheckConstraint(
                condition=Q(topic__in=Topic.values),
                name="crm_eventtopic_topic_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.get_topic_display()


class EventAttendee(TimestampedModel):
    """A company registered for an event (and whether it attended)."""

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="attendees",
        verbose_name=_("イベント"),
    )
    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="event_attendances",
        verbose_name=_("企業等"),
    )
    contact_name = models.CharField(_("参加者氏名"), max_length=100, blank=True)
    contact_email = models.EmailField(_("参加者メールアドレス"), blank=True)
    registered_by = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("登録組織"),
    )
    is_attended = models.BooleanField(_("出席"), default=False)
    attended_at = models.DateTimeField(_("出席記録日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("イベント参加者")
        verbose_name_plural = _("イベント参加者")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "company"], name="crm_eventattendee_unique"
            ),
            models.CheckConstraint(
                condition=Q(is_attended=False) | Q(attended_at__isnull=False),
                name="crm_eventattendee_attended_has_time",
            ),
        ]
        indexes = [
            # The funnel: an attendee company's consultations after the event.
            models.Index(fields=["company"], name="crm_eventattendee_company_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.company}"


class SurveySettings(models.Model):
    """An organisation's satisfaction-survey settings (API `survey-settings/`)."""

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="survey_settings",
        verbose_name=_("組織"),
    )
    # 0 = no survey after consultations.
    after_consultation_business_days = models.PositiveSmallIntegerField(
        _("相談の何営業日後に送るか（0 = 送らない）"), default=3
    )
    after_referral_completed = models.BooleanField(
        _("紹介の完了時に送る"), default=True
    )
    after_enrolment_completed = models.BooleanField(
        _("支援事業の完了時に送る"), default=True
    )

    class Meta:
        verbose_name = _("満足度調査の設定")
        verbose_name_plural = _("満足度調査の設定")
        constraints = [
            models.CheckConstraint(
                condition=Q(after_consultation_business_days__lte=30),
                name="crm_surveysettings_days_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.organisation)


class Survey(TimestampedModel):
    """One satisfaction survey (満足度調査) of a company about one organisation's help.

    Scheduled by the reminder sweep, sent once with a single-use link whose
    token is stored only as its SHA-256; answered on the public page.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("送信予定")
        # Claimed by the sweep; the task `crm.survey_email` sends it.
        SENDING = "sending", _("送信中")
        SENT = "sent", _("送信済み")
        ANSWERED = "answered", _("回答済み")
        SKIPPED = "skipped", _("送信せず")

    class Source(models.TextChoices):
        CONSULTATION = "consultation", _("相談後")
        REFERRAL = "referral", _("紹介の完了後")
        ENROLMENT = "enrolment", _("支援事業の完了後")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="surveys",
        verbose_name=_("調査対象の組織"),
    )
    # Referral surveys: the organisation that sent the company.
    from_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("紹介元の組織"),
    )
    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="surveys",
        verbose_name=_("企業等"),
    )
    source = models.CharField(_("きっかけ"), max_length=20, choices=Source.choices)
    consultation = models.OneToOneField(
        Consultation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey",
        verbose_name=_("相談記録"),
    )
    referral = models.OneToOneField(
        Referral,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey",
        verbose_name=_("紹介"),
    )
    # Enrolment surveys: the programs.Enrolment's id, a plain number (crm
    # does not import programs; programs schedules the survey through
    # crm.services.surveys.survey_schedule_for). Unique when present.
    enrolment_id = models.PositiveBigIntegerField(
        _("支援事業への参加"), null=True, blank=True, editable=False
    )
    # Enrolment surveys: the enrolment's case, where a reported filing is
    # recorded as an outcome (consultation and referral surveys use theirs).
    case = models.ForeignKey(
        "Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("案件"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,  # the answer outlives the contact record
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("送信先の担当者"),
    )
    status = models.CharField(
        _("状態"), max_length=20, choices=Status.choices, default=Status.SCHEDULED
    )
    due_on = models.DateField(_("送信予定日"))
    # The lease of the worker sending the e-mail (crm.survey_email): a
    # sending survey whose lease ran out unsent is sent by the next sweep.
    email_claimed_at = models.DateTimeField(
        _("送信処理の開始日時"), null=True, blank=True, editable=False
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    skipped_reason = models.CharField(_("送信しなかった理由"), max_length=40, blank=True)
    # NULL until sent; unique when present.
    token_hash = models.CharField(  # noqa: DJ001
        _("トークンのハッシュ"), max_length=64, null=True, blank=True, editable=False
    )
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    expires_at = models.DateTimeField(_("回答期限"), null=True, blank=True)
    answered_at = models.DateTimeField(_("回答日時"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("満足度"), null=True, blank=True)
    useful = models.PositiveSmallIntegerField(_("役に立った度合い"), null=True, blank=True)
    comment = models.TextField(_("自由記述"), blank=True)
    filed_after = models.BooleanField(_("その後に出願した"), default=False)
    application_number = models.CharField(_("出願番号"), max_length=60, blank=True)
    outcome = models.ForeignKey(
        "Outcome",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("確認された成果"),
    )

    class Meta:
        verbose_name = _("満足度調査")
        verbose_name_plural = _("満足度調査")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["scheduled", "sending", "sent", "answered", "skipped"]
                ),
                name="crm_survey_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["consultation", "referral", "enrolment"]),
                name="crm_survey_source_valid",
            ),
            models.UniqueConstraint(
                fields=["enrolment_id"],
                condition=Q(enrolment_id__isnull=False),
                name="crm_survey_enrolment_unique",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="crm_survey_score_range",
            ),
            models.CheckConstraint(
                condition=Q(useful__isnull=True) | Q(useful__gte=1, useful__lte=5),
                name="crm_survey_useful_range",
            ),
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=Q(token_hash__isnull=False),
                name="crm_survey_token_unique",
            ),
        ]
        indexes = [
            # The sweep: scheduled surveys due by today.
            models.Index(
                fields=["due_on"],
                condition=Q(status="scheduled"),
                name="crm_survey_due_idx",
            ),
            # The 30-day rule: surveys sent to a company about an organisation.
            models.Index(
                fields=["company", "organisation", "sent_at"],
                name="crm_survey_company_org_idx",
            ),
            # surveys/ and statistics/surveys/ per organisation and fiscal year.
            models.Index(
                fields=["organisation", "fiscal_year"], name="crm_survey_org_fy_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} → {self.organisation} ({self.get_status_display()})"


class Import(models.Model):
    """A file of 相談記録 brought in from another system (DESIGN.md "Bringing history in").

    The upload is kept with the row (bounded by IMPORT_MAX_BYTES) so the
    dry run and the commit read the same bytes on any worker. The dry-run
    report (rows, errors by line and field, companies matched or new, likely
    duplicates) is stored here; the records the commit creates carry its id
    and their source line, which is what undo deletes by.
    """

    class Kind(models.TextChoices):
        CONSULTATIONS = "consultations", _("相談記録")

    class Status(models.TextChoices):
        VALIDATING = "validating", _("確認中")
        READY = "ready", _("確認済み")
        COMMITTING = "committing", _("取込中")
        COMMITTED = "committed", _("取込済み")
        UNDONE = "undone", _("取消済み")
        FAILED = "failed", _("失敗")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="imports",
        verbose_name=_("組織"),
    )
    requested_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,  # the author of what the import created
        related_name="imports",
        verbose_name=_("依頼者"),
    )
    kind = models.CharField(
        _("種類"), max_length=20, choices=Kind.choices, default=Kind.CONSULTATIONS
    )
    status = models.CharField(
        _("状態"), max_length=12, choices=Status.choices, default=Status.VALIDATING
    )
    file_name = models.CharField(_("ファイル名"), max_length=200)
    file_format = models.CharField(_("形式"), max_length=10, blank=True)
    content = models.BinaryField(_("ファイル"), editable=False)
    # {column header: field}, "" for a column to skip; the one used.
    mapping = models.JSONField(_("列の対応"), default=dict, blank=True)
    unknown_headers = models.JSONField(_("不明な列"), default=list, blank=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    valid_rows = models.PositiveIntegerField(_("有効な行数"), default=0)
    # [{line, field, message}] in file order (capped, see IMPORT_MAX_ERRORS).
    errors = models.JSONField(_("エラー"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("エラー数"), default=0)
    companies_matched = models.PositiveIntegerField(_("既存の企業等"), default=0)
    companies_new = models.PositiveIntegerField(_("新しい企業等"), default=0)
    # [{name, prefecture, corporate_number, match, company, rows}] for confirmation.
    companies = models.JSONField(_("企業等の照合"), default=list, blank=True)
    # [{line, consultation}] rows like a consultation already recorded.
    duplicates = models.JSONField(_("重複の可能性"), default=list, blank=True)
    progress = models.PositiveSmallIntegerField(_("進捗（%）"), default=0)
    processed_rows = models.PositiveIntegerField(_("処理済みの行数"), default=0)
    # {companies, cases, consultations, follow_ups}
    created = models.JSONField(_("作成件数"), default=dict, blank=True)
    failure = models.TextField(_("失敗の理由"), blank=True)
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    validated_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    started_at = models.DateTimeField(_("取込開始日時"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最終応答日時"), null=True, blank=True)
    committed_at = models.DateTimeField(_("取込完了日時"), null=True, blank=True)
    undone_at = models.DateTimeField(_("取消日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("取込")
        verbose_name_plural = _("取込")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "validating",
                        "ready",
                        "committing",
                        "committed",
                        "undone",
                        "failed",
                    ]
                ),
                name="crm_import_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["consultations"]), name="crm_import_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="crm_import_progress_max"
            ),
        ]
        indexes = [
            # The organisation's imports, newest first (the imports page).
            models.Index(
                fields=["organisation", "-created_at"], name="crm_import_org_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class ImportMapping(models.Model):
    """An organisation's remembered column mapping, offered on its next import."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="import_mappings",
        verbose_name=_("組織"),
    )
    kind = models.CharField(_("種類"), max_length=20, default="consultations")
    # {column header: field}; "" skips the column.
    mapping = models.JSONField(_("列の対応"), default=dict)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("取込の列の対応")
        verbose_name_plural = _("取込の列の対応")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind"], name="crm_importmapping_org_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.kind}"
