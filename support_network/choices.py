"""Enumerations of the network, spelt as API.md's slugs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    JPO = "jpo", _("特許庁")
    METI_BUREAU = "meti_bureau", _("経済産業局")
    INPIT = "inpit", _("INPIT")
    INPIT_WINDOW = "inpit_window", _("INPIT 知財総合支援窓口")
    INPIT_EXPERT_WINDOW = "inpit_expert_window", _("知財戦略エキスパート窓口")
    YOROZU = "yorozu", _("よろず支援拠点")
    CCI = "cci", _("商工会議所")
    CCI_FEDERATION = "cci_federation", _("商工会議所連合会")
    JCCI = "jcci", _("日本商工会議所")
    JPAA = "jpaa", _("日本弁理士会")
    JPAA_BRANCH = "jpaa_branch", _("弁理士会 地域会")
    SME_AGENCY = "sme_agency", _("中小企業庁")
    IP_GMEN = "ip_gmen", _("知財Gメン")
    SMRJ = "smrj", _("中小機構")
    JETRO = "jetro", _("JETRO")
    FINANCIAL_INSTITUTION = "financial_institution", _("金融機関")
    MUNICIPALITY = "municipality", _("自治体")
    UNIVERSITY = "university", _("大学")
    INVESTOR = "investor", _("投資家・VC")
    PROFESSIONAL = "professional", _("士業")
    OTHER = "other", _("その他")


# Hubs that see cases of the whole nation under a network-wide consent
# (DESIGN.md "Who sees what" rule 3).
NATIONAL_HUB_KINDS = (
    OrganisationKind.JPO,
    OrganisationKind.INPIT,
    OrganisationKind.SME_AGENCY,
)


class Role(models.TextChoices):
    WINDOW_STAFF = "window_staff", _("窓口担当者")
    COORDINATOR = "coordinator", _("コーディネーター")
    MANAGER = "manager", _("管理者")
    ORG_ADMIN = "org_admin", _("組織管理者")
    EXPERT = "expert", _("専門家")
