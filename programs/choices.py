"""Enumerations of support programs, spelt as API.md's slugs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProgramCode(models.TextChoices):
    IPAS = "ipas", _("IPAS 知財アクセラレーションプログラム")
    VC_IPAS = "vc_ipas", _("VC-IPAS")
    IACA = "iaca", _("iAca")
    INAT = "inat", _("iNat")
    IP_LANDSCAPE = "ip_landscape", _("IPランドスケープ支援事業")
    IP_FINANCE = "ip_finance", _("知財金融")
    OVERSEAS_FILING = "overseas_filing", _("中小企業等外国出願支援事業")
    COUNTERFEIT = "counterfeit", _("模倣品対策支援")
    SQUATTED_TRADEMARK = "squatted_trademark", _("冒認商標無効・取消係争支援")
    DEFENSIVE = "defensive", _("防衛型侵害対策支援")
    LITIGATION_INSURANCE = "litigation_insurance", _("海外知財訴訟保険補助")
    MODEL_REGION = "model_region", _("知財経営支援モデル地域創出事業")
    I_OPEN = "i_open", _("I-OPENプロジェクト")


class ProgramKind(models.TextChoices):
    ENROLMENT = "enrolment", _("採択・伴走型")
    SUBSIDY = "subsidy", _("補助金")


class EnrolmentStatus(models.TextChoices):
    APPLIED = "applied", _("申込")
    SCREENING = "screening", _("審査中")
    ACCEPTED = "accepted", _("採択")
    REJECTED = "rejected", _("不採択")
    ACTIVE = "active", _("支援中")
    COMPLETED = "completed", _("完了")
    WITHDRAWN = "withdrawn", _("辞退・中止")


class Scheme(models.TextChoices):
    ONE = "1", _("①")
    TWO = "2", _("②")
    THREE = "3", _("③")


class TeamRole(models.TextChoices):
    IP_EXPERT = "ip_expert", _("知財専門家")
    BUSINESS_EXPERT = "business_expert", _("ビジネス専門家")
    PRODUCER = "producer", _("知財戦略プロデューサー")
    OTHER = "other", _("その他")
