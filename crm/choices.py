"""Enumerations of clients and cases, spelt as API.md's slugs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CompanyKind(models.TextChoices):
    CORPORATION = "corporation", _("法人（会社）")
    SOLE_PROPRIETOR = "sole_proprietor", _("個人事業主")
    UNIVERSITY = "university", _("大学・高専")
    RESEARCH_INSTITUTE = "research_institute", _("研究機関")
    INVESTOR = "investor", _("投資家・VC")
    ASSOCIATION = "association", _("団体・組合")
    PUBLIC_BODY = "public_body", _("公的機関")
    OTHER = "other", _("その他")


class SizeClass(models.TextChoices):
    MICRO = "micro", _("小規模企業者")
    SME = "sme", _("中小企業者")
    MIDSIZE = "midsize", _("中堅企業")
    LARGE = "large", _("大企業")
    UNKNOWN = "unknown", _("不明")


class Channel(models.TextChoices):
    VISIT = "visit", _("来所")
    PHONE = "phone", _("電話")
    ONLINE = "online", _("オンライン")
    EMAIL = "email", _("メール")
    ONSITE = "onsite", _("訪問")


class Topic(models.TextChoices):
    PATENT = "patent", _("特許")
    UTILITY_MODEL = "utility_model", _("実用新案")
    DESIGN = "design", _("意匠")
    TRADEMARK = "trademark", _("商標")
    COPYRIGHT = "copyright", _("著作権")
    TRADE_SECRET = "trade_secret", _("営業秘密")
    CONTRACT = "contract", _("契約")
    LICENSING = "licensing", _("ライセンス")
    INFRINGEMENT = "infringement", _("侵害・紛争")
    OVERSEAS = "overseas", _("海外展開")
    IP_LANDSCAPE = "ip_landscape", _("IPランドスケープ")
    IP_FINANCE = "ip_finance", _("知財金融")
    STARTUP = "startup", _("スタートアップ")
    BRANDING = "branding", _("ブランディング")
    STANDARDIZATION = "standardization", _("標準化")
    SUBSIDY = "subsidy", _("補助金")
    IP_MANAGEMENT = "ip_management", _("知財管理・知財経営")
    OTHER = "other", _("その他")


# Topic → number in the statistics facts (crm.ConsultationFact.topic_no): a
# smallint groups and compares faster than text over a national year. The
# numbers are stored: never renumber; a new topic takes the next number.
TOPIC_NUMBERS = {
    Topic.PATENT: 1,
    Topic.UTILITY_MODEL: 2,
    Topic.DESIGN: 3,
    Topic.TRADEMARK: 4,
    Topic.COPYRIGHT: 5,
    Topic.TRADE_SECRET: 6,
    Topic.CONTRACT: 7,
    Topic.LICENSING: 8,
    Topic.INFRINGEMENT: 9,
    Topic.OVERSEAS: 10,
    Topic.IP_LANDSCAPE: 11,
    Topic.IP_FINANCE: 12,
    Topic.STARTUP: 13,
    Topic.BRANDING: 14,
    Topic.STANDARDIZATION: 15,
    Topic.SUBSIDY: 16,
    Topic.IP_MANAGEMENT: 17,
    Topic.OTHER: 18,
}
NO_TOPIC_NUMBER = 0  # a consultation without topics


class IpType(models.TextChoices):
    PATENT = "patent", _("特許")
    UTILITY_MODEL = "utility_model", _("実用新案")
    DESIGN = "design", _("意匠")
    TRADEMARK = "trademark", _("商標")
    COPYRIGHT = "copyright", _("著作権")
    TRADE_SECRET = "trade_secret", _("営業秘密")
    PLANT_VARIETY = "plant_variety", _("品種登録")
    GI = "gi", _("地理的表示")
    OTHER = "other", _("その他")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("対応中")
    CLOSED = "closed", _("完了")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("紹介済み（回答待ち）")
    ACCEPTED = "accepted", _("受入")
    DECLINED = "declined", _("辞退")
    COMPLETED = "completed", _("完了")
    CANCELLED = "cancelled", _("取消")
    EXPIRED = "expired", _("期限切れ")


# A referral in these states makes its case visible to the receiver
# (DESIGN.md "Who sees what" rule 3).
REFERRAL_VISIBLE_STATUSES = (
    ReferralStatus.SENT,
    ReferralStatus.ACCEPTED,
    ReferralStatus.COMPLETED,
)


class ConsentScope(models.TextChoices):
    NETWORK = "network", _("ネットワーク全体")
    ORGANISATIONS = "organisations", _("指定した組織")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("書面")
    ELECTRONIC = "electronic", _("電磁的方法")
    VERBAL = "verbal", _("口頭（記録あり）")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("未完了")
    DONE = "done", _("完了")


class OutcomeKind(models.TextChoices):
    FILING = "filing", _("出願")
    REGISTRATION = "registration", _("登録")
    LICENCE = "licence", _("ライセンス契約")
    FINANCING = "financing", _("資金調達・融資")
    SUBSIDY = "subsidy", _("補助金採択")
    OTHER = "other", _("その他")


class EventKind(models.TextChoices):
    """Kinds of network events (DESIGN.md "Activities beyond consultations")."""

    SEMINAR = "seminar", _("セミナー")
    TRAINING = "training", _("研修")
    LIAISON_MEETING = "liaison_meeting", _("連携会議")
    CONSULTATION_FAIR = "consultation_fair", _("出張相談会")
    OTHER = "other", _("その他")
