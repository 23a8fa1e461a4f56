"""The network itself: regional blocks, prefectures, organisations, memberships."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from support_network.choices import OrganisationKind, Role
from support_network.reminder_rules import validate_reminder_rules


class TimestampedModel(models.Model):
    """Adds creation and modification times."""

    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        abstract = True


class Region(models.Model):
    """A 経済産業局 block (沖縄総合事務局 for Okinawa)."""

    code = models.SlugField(_("コード"), max_length=20, primary_key=True)
    name = models.CharField(_("名称"), max_length=60)
    short_name = models.CharField(_("略称"), max_length=20)
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("地域ブロック")
        verbose_name_plural = _("地域ブロック")
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return self.name


class Prefecture(models.Model):
    """A prefecture by JIS X 0401 code, with its bureau and 弁理士会 地域会.

    The bureau region and the 地域会 do not nest (reference/prefectures.md),
    so both are stored.
    """

    code = models.CharField(_("JIS コード"), max_length=2, primary_key=True)
    name = models.CharField(_("名称"), max_length=10, unique=True)
    name_en = models.CharField(_("英語名"), max_length=20)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,  # reference data: never cascade
        related_name="prefectures",
        verbose_name=_("地域ブロック"),
    )
    jpaa_branch = models.ForeignKey(
        "Organisation",
        on_delete=models.SET_NULL,  # seeded after the prefecture exists
        null=True,
        blank=True,
        related_name="covered_prefectures",
        verbose_name=_("弁理士会 地域会"),
    )

    class Meta:
        verbose_name = _("都道府県")
        verbose_name_plural = _("都道府県")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ExpertiseTag(models.Model):
    """A field of expertise used to route referrals (topic slugs and more)."""

    slug = models.SlugField(_("スラッグ"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        verbose_name = _("専門分野")
        verbose_name_plural = _("専門分野")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Organisation(TimestampedModel):
    """A member (or partner) organisation of the network."""

    Kind = OrganisationKind

    code = models.SlugField(_("コード"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    short_name = models.CharField(_("略称"), max_length=60, blank=True)
    kind = models.CharField(_("種別"), max_length=30, choices=OrganisationKind.choices)
    prefecture = models.ForeignKey(
        Prefecture,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("都道府県"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("地域ブロック"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上位組織"),
    )
    is_network_member = models.BooleanField(_("ネットワーク構成員"), default=True)
    is_active = models.BooleanField(_("有効"), default=True)
    capacity = models.PositiveIntegerField(
        _("受入可能件数"),
        default=20,
        help_text=_("同時に受け入れられる紹介案件の数（紹介先の提案に使います）"),
    )
    expertise = models.ManyToManyField(
        ExpertiseTag,
        blank=True,
        related_name="organisations",
        verbose_name=_("専門分野"),
    )
    email = models.EmailField(_("代表メールアドレス"), blank=True)
    # Overrides of settings.CRM_REMINDERS for this organisation only
    # (support_network/reminder_rules.py checks and merges them).
    reminder_rules = models.JSONField(
        _("リマインドの個別設定"),
        default=dict,
        blank=True,
        validators=[validate_reminder_rules],
        help_text=_(
            "全国共通のリマインド設定のうち、この組織だけ変える項目"
            '（例: {"FOLLOW_UP_MAX_REMINDERS": 5}）。空なら全国共通の設定に従います。'
        ),
    )

    class Meta:
        verbose_name = _("組織")
        verbose_name_plural = _("組織")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganisationKind.values),
                name="support_network_organisation_kind_valid",
            ),
        ]
        indexes = [
            # organisations/?kind=&prefecture= and hub look-ups by kind.
            models.Index(fields=["kind", "prefecture"], name="sn_org_kind_pref_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TimestampedModel):
    """A user's role in one organisation; every action is taken through one."""

    Role = Role

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("ユーザー"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("組織"),
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("有効"), default=True)
    expertise = models.ManyToManyField(
        ExpertiseTag, blank=True, related_name="memberships", verbose_name=_("専門分野")
    )
    capacity = models.PositiveIntegerField(
        _("担当可能件数"), default=10, help_text=_("同時に担当できる案件の数")
    )

    class Meta:
        verbose_name = _("所属")
        verbose_name_plural = _("所属")
        ordering = ["organisation__code", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"],
                name="support_network_membership_unique_user_org",
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values),
                name="support_network_membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.organisation} ({self.get_role_display()})"
