"""The network itself: regional blocks, prefectures, organisations, memberships."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
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


class IdentityProvider(TimestampedModel):
    """An organisation's OpenID Provider: its staff sign in through it (SSO).

    Configured by the superuser in the admin. The client secret is never
    stored: `client_secret_env` names an environment variable holding it
    (or `<NAME>_FILE`, a file holding it). support_network/services/sso.py
    reads this row per login; the group → role mapping is its `groups`.
    """

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="identity_provider",
        verbose_name=_("組織"),
    )
    is_enabled = models.BooleanField(_("有効"), default=True)
    display_name = models.CharField(
        _("表示名"),
        max_length=100,
        blank=True,
        help_text=_("ログイン画面に出す名前（例: Microsoft Entra ID）。空なら組織名。"),
    )
    issuer = models.URLField(
        _("発行者 (issuer) の URL"),
        max_length=300,
        help_text=_(
            "OpenID Provider の issuer。<issuer>/.well-known/openid-configuration "
            "から各エンドポイントと鍵の場所を読みます。"
        ),
    )
    client_id = models.CharField(_("クライアント ID"), max_length=300)
    client_secret_env = models.CharField(
        _("クライアントシークレットの環境変数名"),
        max_length=100,
        validators=[
            RegexValidator(
                r"^[A-Z][A-Z0-9_]*$",
                _("英大文字・数字・_ の環境変数名を入れてください（例: CRM_SSO_TOKYO_SECRET）。"),
            )
        ],
        help_text=_(
            "シークレットそのものではなく、それを入れた環境変数の名前。"
            "<名前>_FILE にファイルのパスを入れた場合はそのファイルから読みます。"
        ),
    )
    scopes = models.CharField(
        _("スコープ"), max_length=300, default="openid email profile"
    )
    groups_claim = models.CharField(
        _("グループのクレーム名"),
        max_length=100,
        default="groups",
        help_text=_("所属と役割を決めるグループの一覧が入るクレーム（例: groups, roles）。"),
    )
    email_domains = models.CharField(
        _("メールのドメイン"),
        max_length=300,
        blank=True,
        help_text=_(
            "ログイン画面でメールアドレスからこの組織を選ぶためのドメイン（カンマ区切り、"
            "例: example.go.jp）。"
        ),
    )
    mfa_acr_values = models.CharField(
        _("多要素認証とみなす acr"),
        max_length=300,
        blank=True,
        help_text=_(
            "ID トークンの acr がこのいずれか（空白区切り）なら多要素認証済みとみなします。"
            "amr に mfa / otp / hwk があれば常に多要素認証済みです。"
        ),
    )
    passwords_disabled = models.BooleanField(
        _("パスワードでのログインを禁止"),
        default=False,
        help_text=_("この組織のメンバーはシングルサインオンでしかログインできません。"),
    )
    delegated_organisations = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="delegating_identity_providers",
        verbose_name=_("委任された組織"),
        help_text=_(
            "この IdP が所属を与えてよい他の組織（自組織のほか）。"
            "ここにない組織の所属は決して与えません。"
        ),
    )

    class Meta:
        verbose_name = _("シングルサインオン (OpenID Connect)")
        verbose_name_plural = _("シングルサインオン (OpenID Connect)")
        ordering = ["organisation__code"]

    def __str__(self) -> str:
        return self.display_name or str(self.organisation)


class IdentityProviderGroup(models.Model):
    """One line of an IdP's group mapping: a group claim value → role in an organisation."""

    provider = models.ForeignKey(
        IdentityProvider,
        on_delete=models.CASCADE,
        related_name="groups",
        verbose_name=_("シングルサインオン"),
    )
    group = models.CharField(
        _("グループ"), max_length=200, help_text=_("例: crm-window-staff")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="identity_provider_groups",
        verbose_name=_("組織"),
        help_text=_("IdP の組織か、その IdP に委任された組織"),
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("グループと役割の対応")
        verbose_name_plural = _("グループと役割の対応")
        ordering = ["provider", "group"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "group", "organisation"],
                name="sn_idp_group_unique",
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values),
                name="sn_idp_group_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.organisation} ({self.get_role_display()})"

    def clean(self):
        provider = self.provider if self.provider_id else None
        if provider is None or not self.organisation_id:
            return
        if self.organisation_id != provider.organisation_id and not (
            provider.pk
            and provider.delegated_organisations.filter(pk=self.organisation_id).exists()
        ):
            raise ValidationError(
                {
                    "organisation": _(
                        "この IdP の組織か、委任された組織（保存済みのもの）だけを選べます。"
                    )
                }
            )


class SsoIdentity(TimestampedModel):
    """A user's account at an IdP (its `sub`), linked at their first SSO login."""

    provider = models.ForeignKey(
        IdentityProvider,
        on_delete=models.CASCADE,
        related_name="identities",
        verbose_name=_("シングルサインオン"),
    )
    subject = models.CharField(_("IdP のユーザー識別子 (sub)"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sso_identities",
        verbose_name=_("ユーザー"),
    )
    last_login_at = models.DateTimeField(_("最終ログイン"), null=True, blank=True)

    class Meta:
        verbose_name = _("シングルサインオンのアカウント")
        verbose_name_plural = _("シングルサインオンのアカウント")
        ordering = ["provider", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], name="sn_sso_identity_unique_sub"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} / {self.subject}"
