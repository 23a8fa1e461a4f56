"""Synthetic demo data: companies, cases, consultations, referrals and more.

A fresh machine should show a living network on first start (README "run"),
and trainers and reviewers need the same picture every time, so the generator
is deterministic (one ``random.Random(seed)``) and runs once per database: a
marker audit event makes every later call return at once, which lets the run
script call it on every start.

Rows are written with ``bulk_create`` rather than through the services: the
services write an audit event per row, which demo data must not leave, and
one-row-at-a-time writes would make large scales (``--scale``) slow. The rules
the services enforce are therefore kept by hand here (check digits, fiscal
years, business-day deadlines, consent before referral) and asserted in
tests/crm/test_demo_data.py.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import rules
from crm.choices import (
    CaseStatus,
    Channel,
    CompanyKind,
    ConsentMethod,
    ConsentScope,
    FollowUpStatus,
    OutcomeKind,
    ReferralStatus,
)
from crm.models import (
    AuditEvent,
    Case,
    Company,
    Consent,
    Consultation,
    ConsultationIpType,
    ConsultationTopic,
    FollowUp,
    Outcome,
    ProvisionRecord,
    Referral,
    ReferralTopic,
)
from crm.services import company_derive_keys
from crm.services.facts import consultation_facts_refresh
from support_network import calendar
from support_network.choices import OrganisationKind, Role
from support_network.errors import DomainError
from support_network.mfa import totp_device_install
from support_network.models import Organisation, Prefecture
from support_network.services import user_create_or_update

DEMO_PASSWORD = "demo-pass-2026"
# The demo managers and org admins (who must have a second factor) share
# this TOTP secret (README "Tokens and second factor"): add it to an
# authenticator app, or print the current code with
# `python -c "import base64; from django_otp.oath import totp; print('%06d' % totp(base64.b32decode('<secret>')))"`.
DEMO_TOTP_SECRET = "CHIZAIDEMOTOTPSECRETFORDEMOUSERS"
# The audit event that marks a database as already holding demo data.
MARKER_ACTION = "demo_data.load"
BATCH_SIZE = 500

# Sizes at scale 1: enough to fill every list and chart of the demo while the
# first start stays quick (about 3 s on SQLite).
COMPANIES_PER_SCALE = 200
CASES_PER_COMPANY = 2
CONSULTATIONS_PER_COMPANY = 5

COUNT_KINDS = (
    "users",
    "companies",
    "consents",
    "cases",
    "consultations",
    "consultation_topics",
    "consultation_ip_types",
    "joint_attendances",
    "follow_ups",
    "referrals",
    "provision_records",
    "outcomes",
)


@dataclass(frozen=True)
class DemoUser:
    """A demo login: one user with one membership."""

    username: str
    organisation_code: str
    role: str
    display_name: str
    is_staff: bool = False
    is_superuser: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("staff-tokyo", "inpit-window-13", Role.WINDOW_STAFF, "東 京子"),
    DemoUser("staff-osaka", "yorozu-27", Role.WINDOW_STAFF, "浪花 大輔"),
    DemoUser("coord-kanto", "bureau-kanto", Role.COORDINATOR, "関 東一"),
    DemoUser("coord-jpaa-kanto", "jpaa-kanto", Role.COORDINATOR, "弁理 士郎"),
    DemoUser("manager-inpit", "inpit", Role.MANAGER, "工藤 所子"),
    DemoUser("admin-tokyo", "inpit-window-13", Role.ORG_ADMIN, "管理 太郎"),
    DemoUser("expert-secret", "inpit-expert-trade-secret", Role.EXPERT, "秘密 守"),
    # user_create_or_update always records a membership; INPIT HQ is the
    # neutral choice for the superuser, who sees everything anyway.
    DemoUser(
        "admin",
        "inpit",
        Role.ORG_ADMIN,
        "システム 管理者",
        is_staff=True,
        is_superuser=True,
    ),
)


class DemoDataError(DomainError):
    """Demo data cannot be loaded into this database (400)."""

    default_code = "demo_data_unavailable"


# --- Vocabulary -------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    """Return the space-separated words of *text* (vocabulary tables stay short)."""
    return tuple(text.split())


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Return ("山田", "ヤマダ") pairs from "山田:ヤマダ 東和:トウワ …"."""
    return tuple(tuple(item.split(":")) for item in text.split())


# Prefectures by JIS code; the rest weigh 1. Roughly the share of consultations
# in the large prefectures.
PREFECTURE_WEIGHTS = {
    "13": 26, "27": 12, "23": 10, "14": 7, "40": 5, "28": 4, "11": 4, "12": 3,
    "01": 3, "26": 3, "22": 3, "34": 2, "04": 2, "15": 2, "20": 2,
}  # fmt: skip

CITIES = {
    "13": ("千代田区", "港区", "大田区", "品川区", "墨田区", "八王子市", "三鷹市"),
    "27": ("大阪市北区", "大阪市中央区", "東大阪市", "堺市", "吹田市"),
    "23": ("名古屋市中区", "名古屋市港区", "豊田市", "岡崎市", "一宮市"),
    "14": ("横浜市港北区", "川崎市中原区", "相模原市", "藤沢市"),
    "40": ("福岡市博多区", "北九州市", "久留米市"),
    "28": ("神戸市中央区", "姫路市", "尼崎市"),
}

# Name stems with their katakana reading.
STEMS = _pairs(
    "山田:ヤマダ 東和:トウワ 大和:ヤマト 丸山:マルヤマ 中央:チュウオウ 富士:フジ "
    "三光:サンコウ 北斗:ホクト 青葉:アオバ 旭:アサヒ 昭和:ショウワ 光洋:コウヨウ "
    "新栄:シンエイ 大成:タイセイ 協和:キョウワ 双葉:フタバ 平和:ヘイワ 日進:ニッシン "
    "共栄:キョウエイ 三和:サンワ 東邦:トウホウ 千代田:チヨダ 浪速:ナニワ 尾張:オワリ "
    "松本:マツモト 高橋:タカハシ 鈴木:スズキ 田中:タナカ 中村:ナカムラ 小林:コバヤシ "
    "加藤:カトウ 吉田:ヨシダ 桜:サクラ 若葉:ワカバ 瑞穂:ミズホ ミライ:ミライ "
    "アオイ:アオイ ひかり:ヒカリ グローバル:グローバル ネクスト:ネクスト エコ:エコ "
    "スマート:スマート オリオン:オリオン みなと:ミナト"
)
SURNAMES = _pairs(
    "佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ "
    "山本:ヤマモト 中村:ナカムラ 小林:コバヤシ 加藤:カトウ 吉田:ヨシダ 山口:ヤマグチ "
    "松本:マツモト 井上:イノウエ 木村:キムラ"
)
GIVEN_NAMES = _words("健一 美穂 大輔 由美 翔太 恵子 直樹 裕子 誠 彩")


@dataclass(frozen=True)
class Industry:
    """A JSIC code with the name suffixes and products that fit it."""

    code: str
    weight: int
    suffixes: tuple[tuple[str, str], ...]
    products: tuple[str, ...]


def _industry(code: str, weight: int, suffixes: str, products: str) -> Industry:
    return Industry(code, weight, _pairs(suffixes), _words(products))


# JSIC codes from 大分類 to 小分類 (API.md "company industry"), so the size
# class exercises every SME industry group.
INDUSTRIES = (
    _industry("E", 14, "製作所:セイサクショ 工業:コウギョウ 精機:セイキ",
              "精密部品 産業用ロボット 省エネ型ポンプ 外観検査装置"),
    _industry("24", 8, "金属:キンゾク 鉄工所:テッコウショ 技研:ギケン",
              "金属加工技術 溶接治具 ステンレス製容器"),
    _industry("29", 7, "電機:デンキ 電子:デンシ エレクトロニクス:エレクトロニクス",
              "小型モーター センサーモジュール LED照明 蓄電システム"),
    _industry("09", 9, "食品:ショクヒン 製菓:セイカ 酒造:シュゾウ",
              "発酵調味料 和菓子 地酒 機能性食品 冷凍総菜"),
    _industry("39", 11, "システム:システム ソフト:ソフト テック:テック",
              "業務管理アプリ AI画像解析システム 予約プラットフォーム IoT監視サービス"),
    _industry("411", 2, "映像:エイゾウ クリエイト:クリエイト",
              "アニメーション作品 動画配信サービス"),
    _industry("55", 5, "商事:ショウジ 物産:ブッサン",
              "輸入雑貨 業務用資材 地域特産品"),
    _industry("58", 4, "商店:ショウテン フーズ:フーズ",
              "オリジナル菓子 地域特産品 ECブランド"),
    _industry("76", 3, "ダイニング:ダイニング フードサービス:フードサービス",
              "看板メニュー 店舗ブランド"),
    _industry("D", 5, "建設:ケンセツ 工務店:コウムテン", "耐震工法 高断熱パネル"),
    _industry("A", 4, "農園:ノウエン ファーム:ファーム",
              "新品種のいちご ブランド米 有機野菜"),
    _industry("L", 5, "設計:セッケイ デザイン:デザイン 研究所:ケンキュウショ",
              "製品デザイン 測定技術 試験評価サービス"),
    _industry("P", 3, "メディカル:メディカル ケア:ケア", "介護支援機器 見守りシステム"),
    _industry("N", 2, "ビューティー:ビューティー", "美容機器 ヘアケア製品"),
)  # fmt: skip

UNIVERSITY_STEMS = _pairs(
    "東都:トウト 浪速:ナニワ 中京:チュウキョウ 北辰:ホクシン 湘南:ショウナン "
    "筑紫:ツクシ 瀬戸内:セトウチ みちのく:ミチノク"
)
UNIVERSITY_KINDS = _pairs(
    "大学:ダイガク 工業大学:コウギョウダイガク 科学技術大学:カガクギジュツダイガク"
)
UNIVERSITY_PRODUCTS = _words("新素材 創薬候補化合物 ロボット制御技術 農業用センサー")
SOLE_PROPRIETOR_SUFFIXES = _pairs(
    "デザイン事務所:デザインジムショ 工房:コウボウ 農園:ノウエン 商店:ショウテン "
    "製作所:セイサクショ"
)
BRANDS = _words("ソラミミ ハナマル キララ モクモク アオゾラ ユメカゼ ツクモ")
COUNTRIES = _words("台湾 ベトナム 米国 中国 タイ 欧州")


@dataclass(frozen=True)
class Theme:
    """What a case is about: its title, topics, IP types and wording.

    Templates take {product}, {brand} and {country}, drawn once per case.
    """

    slug: str
    weight: int
    title: str
    topics: tuple[str, ...]
    ip_types: tuple[str, ...]
    summaries: tuple[str, ...]
    next_actions: tuple[str, ...]
    confidential_rate: float = 0.01


def _theme(slug, weight, title, topics, ip_types, summaries, actions, **kw) -> Theme:
    return Theme(
        slug, weight, title, _words(topics), _words(ip_types),
        tuple(summaries.strip().splitlines()), _words(actions), **kw,
    )  # fmt: skip


# One summary per line; topics and IP types are API.md slugs, the first topic
# being the one every consultation of the theme has.
THEMES = (
    _theme("patent", 22, "{product}の特許出願",
           "patent ip_management subsidy contract", "patent utility_model", """
{product}について特許出願を検討中。J-PlatPat による先行技術調査の方法と出願までの流れを説明した。
{product}の発明内容を聴取し、新規性・進歩性の観点から権利化の可能性を整理した。
展示会への出展予定があるため、新規性喪失の例外と出願の時期について助言した。
弁理士への依頼方法と費用の目安、中小企業向けの審査請求料等の減免制度を説明した。
""", "先行技術調査の結果を確認 弁理士との面談を調整 減免申請の書類を確認"),
    _theme("trademark", 18, "商標「{brand}」の登録",
           "trademark branding overseas", "trademark", """
新商品名「{brand}」の商標登録について相談。類似商標の調べ方と指定商品・役務の考え方を説明した。
「{brand}」の出願書類案を確認し、区分の選び方について助言した。
他社が「{brand}」に似た名称を使っているとの相談。商標権の効力と取り得る対応を整理した。
""", "類似商標の調査結果を確認 出願書類の最終確認 指定商品の再検討"),
    _theme("design", 7, "{product}の意匠登録", "design branding patent", "design", """
{product}の外観デザインについて意匠登録の要否を相談。部分意匠・関連意匠の活用を説明した。
意匠出願の図面の準備について助言し、公開前の注意点を確認した。
""", "図面案の確認 意匠出願の準備状況を確認"),
    _theme("overseas", 8, "{country}展開に向けた知財対策",
           "overseas trademark patent subsidy", "trademark patent", """
{country}への輸出に向け、現地での商標出願の必要性と中小企業等外国出願支援事業について説明した。
{country}での模倣品リスクと、マドリッド協定議定書による国際出願の手続を説明した。
""", "補助金の公募時期を連絡 現地代理人の候補を紹介"),
    _theme("trade_secret", 6, "営業秘密の管理体制整備",
           "trade_secret contract ip_management", "trade_secret", """
退職者による技術情報の持ち出しが懸念されるとの相談。秘密管理性の要件と管理規程の整備を説明した。
取引先との秘密保持契約の条項を確認し、開示範囲の限定について助言した。
""", "管理規程のひな形を送付 秘密保持契約の修正案を確認", confidential_rate=0.35),
    _theme("infringement", 6, "模倣品・権利侵害への対応",
           "infringement trademark design patent", "trademark design patent", """
ECサイトで{product}の模倣品が販売されているとの相談。権利の有無とプラットフォームへの削除申請を説明した。
他社から警告書が届いたとの相談。権利範囲の確認と弁護士・弁理士への相談を助言した。
""", "警告書への回答方針を確認 侵害品の証拠を整理", confidential_rate=0.35),
    _theme("licensing", 6, "{product}のライセンス契約",
           "licensing contract patent", "patent", """
{product}の特許を他社にライセンスしたいとの相談。実施料の考え方と契約の主要条項を説明した。
ライセンス契約書案を確認し、改良発明の帰属条項について助言した。
""", "契約書案の修正点を確認 実施料の試算を確認"),
    _theme("startup", 7, "創業期の知財戦略",
           "startup patent ip_finance trademark", "patent trademark", """
創業間もない企業。事業計画と知財の関係を整理し、スタートアップ向けの早期審査を説明した。
資金調達に向けて投資家に説明できる知財ポートフォリオの作り方を助言した。
""", "IPASの募集要項を送付 出願計画の確認"),
    _theme("ip_landscape", 4, "IPランドスケープによる新規事業探索",
           "ip_landscape ip_management patent", "patent", """
新規事業の探索に特許情報を使いたいとの相談。IPランドスケープ支援事業の内容を説明した。
競合他社の出願動向の分析結果を共有し、参入余地について意見交換した。
""", "分析結果の報告会を設定 支援事業への申込を確認"),
    _theme("ip_finance", 4, "知財を活用した資金調達",
           "ip_finance ip_management subsidy", "patent", """
取引金融機関から知財ビジネス評価書の活用を勧められたとの相談。知財金融促進事業を説明した。
保有特許と事業の関係を整理し、融資申請の説明資料について助言した。
""", "評価書の申込書類を確認 金融機関との面談を調整"),
    _theme("copyright", 4, "{product}の著作権と利用規約",
           "copyright contract licensing", "copyright", """
{product}の著作権の帰属について、外部委託先との契約内容を確認した。
利用規約の作成について、著作物の利用許諾の範囲を説明した。
""", "委託契約書の修正案を確認 利用規約案を確認"),
    _theme("ip_management", 6, "知財管理体制の構築",
           "ip_management patent trademark trade_secret", "patent trademark", """
社内に知財担当者がいないとの相談。発明の発掘と管理の手順づくりを説明した。
職務発明規程の整備について、ひな形を示して助言した。
""", "職務発明規程案を確認 社内研修の日程を調整"),
    _theme("regional_brand", 3, "{product}の地域ブランド保護",
           "branding trademark other", "gi plant_variety trademark", """
{product}を地域ブランドとして守りたいとの相談。地域団体商標と地理的表示（GI）の違いを説明した。
{product}の品種登録の要件と手続を説明した。
""", "産地の団体と協議 品種登録の出願書類を確認"),
    _theme("standardization", 2, "業界標準化への対応",
           "standardization patent licensing", "patent", """
業界団体での標準化の動きについて相談。標準必須特許とオープン・クローズ戦略を説明した。
""", "標準化活動の情報を共有"),
)  # fmt: skip
# Only universities get this one, so it takes no part in the general draw.
ACADEMIA_THEME = _theme("academia", 0, "共同研究成果の権利化と活用",
                        "licensing patent contract startup", "patent", """
{product}に関する共同研究の成果について、企業との持分と実施許諾の条件を整理した。
大学発ベンチャーの設立に向け、特許の譲渡と実施許諾の選択肢を説明した。
""", "共同出願契約案を確認 産学連携部門と打合せ")  # fmt: skip

ADVICE = (
    "INPIT の支援メニューと専門家派遣の利用方法を案内した。",
    "次回までに資料を準備いただくことにした。",
    "必要に応じて弁理士・弁護士の専門家を紹介することを伝えた。",
    "",
)

CHANNEL_WEIGHTS = (
    (Channel.VISIT, 35),
    (Channel.PHONE, 25),
    (Channel.ONLINE, 25),
    (Channel.EMAIL, 10),
    (Channel.ONSITE, 5),
)

REFERRAL_REASONS = {
    OrganisationKind.INPIT_EXPERT_WINDOW: "専門的な支援が必要なため、知財戦略エキスパートに"
    "紹介します。",
    OrganisationKind.JPAA_BRANCH: "出願書類の作成を含む代理の相談のため、弁理士会に紹介します。",
    OrganisationKind.YOROZU: "販路開拓など経営面の支援も必要なため、よろず支援拠点に紹介します。",
    OrganisationKind.INPIT_WINDOW: "知財面の専門的な支援が必要なため、知財総合支援窓口に"
    "紹介します。",
}
REFERRAL_OUTCOME_NOTES = (
    "専門家が面談し、対応方針をまとめて企業に説明しました。",
    "弁理士を紹介し、出願の準備に入りました。",
    "支援計画を作成し、継続して支援しています。",
)
PROVISION_ITEMS = ("company", "case", "consultations")

# Where a case of each theme is referred (expert windows by API.md code).
THEME_EXPERT_WINDOW = {
    "trade_secret": "inpit-expert-trade-secret",
    "infringement": "inpit-expert-trade-secret",
    "overseas": "inpit-expert-overseas",
    "startup": "inpit-expert-startup",
    "ip_finance": "inpit-expert-startup",
    "academia": "inpit-expert-academia",
}
OUTCOME_RATE = 0.08
JOINT_ATTENDANCE_RATE = 0.04
# Share of trade-secret cases the expert window takes on directly, so the
# demo expert has cases of their own.
EXPERT_OWNED_RATE = 0.2


# --- Generator ----------------------------------------------------------------


@dataclass
class _CaseDraft:
    """A case with what the later passes need to know about it."""

    case: Case
    theme: Theme
    # What the case is about, the same in its title and every summary.
    words: dict[str, str]
    consultations: list[Consultation] = field(default_factory=list)

    def fill(self, template: str) -> str:
        return template.format(**self.words)


def _weighted(rng: random.Random, pairs) -> object:
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def _jst(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=calendar.JST)


def _business_day_near(d: date, lower: date, upper: date) -> date:
    """Return the business day on or before *d*, else after it, within bounds.

    Consultations happen on working days; a weekend date moves back, or
    forward when that would leave the bounds.
    """
    back = d
    while back >= lower:
        if calendar.is_business_day(back):
            return back
        back -= timedelta(days=1)
    ahead = d
    while ahead <= upper:
        if calendar.is_business_day(ahead):
            return ahead
        ahead += timedelta(days=1)
    return d


def _random_date(rng: random.Random, lower: date, upper: date) -> date:
    return lower + timedelta(days=rng.randint(0, max(0, (upper - lower).days)))


def _empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KINDS, 0)


class _Generator:
    """Build the demo rows of one run; state shared by the passes below."""

    def __init__(self, *, rng: random.Random, seed: int, today: date) -> None:
        self.rng = rng
        self.seed = seed
        self.today = today
        self.yesterday = today - timedelta(days=1)
        fy_start, _end = calendar.fiscal_year_bounds(2024)
        # FY2024 onwards; a clock set before then still gets a year of data.
        self.start = min(fy_start, today - timedelta(days=365))
        self.counts = _empty_counts()
        self.organisations = {
            org.code: org
            for org in Organisation.objects.select_related("prefecture", "region")
        }
        self.prefectures = list(Prefecture.objects.order_by("code"))
        self.staff: dict[str, list] = defaultdict(list)
        self.staffed: set[str] = set()
        self.used_numbers: set[str] = set()
        self.used_names: set[tuple[str, str]] = set()

    # Users ------------------------------------------------------------------

    def create_demo_users(self) -> None:
        """Create the demo logins of DEMO_USERS; staff among them take cases."""
        for demo in DEMO_USERS:
            membership, created = user_create_or_update(
                username=demo.username,
                organisation_code=demo.organisation_code,
                role=demo.role,
                password=DEMO_PASSWORD,
                email=f"{demo.username}@example.invalid",
                validate=False,
            )
            user = membership.user
            user.last_name, _sep, user.first_name = demo.display_name.partition(" ")
            user.is_staff = demo.is_staff
            user.is_superuser = demo.is_superuser
            user.save(
                update_fields=["last_name", "first_name", "is_staff", "is_superuser"]
            )
            if demo.role in (Role.MANAGER, Role.ORG_ADMIN):
                totp_device_install(user=user, secret=DEMO_TOTP_SECRET)
            self.counts["users"] += created
            if demo.role in (Role.WINDOW_STAFF, Role.EXPERT):
                self.staff[demo.organisation_code].append(user)

    def staff_of(self, code: str) -> list:
        """Return the staff who take an organisation's cases, creating one if none.

        Organisations without a demo login get one staff member with an
        unusable password, so every case has a real creator and assignee.
        """
        if code not in self.staffed:
            self.staffed.add(code)
            organisation = self.organisations[code]
            role = (
                Role.EXPERT
                if organisation.kind == OrganisationKind.INPIT_EXPERT_WINDOW
                else Role.WINDOW_STAFF
            )
            membership, created = user_create_or_update(
                username=f"demo-{code}",
                organisation_code=code,
                role=role,
                validate=False,
            )
            # A name of its own per organisation, independent of the main draw.
            name_rng = random.Random(f"{self.seed}-{code}")
            user = membership.user
            user.last_name = name_rng.choice(SURNAMES)[0]
            user.first_name = name_rng.choice(GIVEN_NAMES)
            user.save(update_fields=["last_name", "first_name"])
            self.counts["users"] += created
            self.staff[code].append(user)
        return self.staff[code]

    def pick_staff(self, code: str):
        staff = self.staff_of(code)
        # The demo login gets most of its organisation's cases.
        return staff[0] if self.rng.random() < 0.6 else self.rng.choice(staff)

    # Companies ----------------------------------------------------------------

    def corporate_number(self, type_code: str, prefecture: str) -> str:
        """Return a fresh, well-formed 法人番号 shaped like a registry number.

        The 12-digit base is registry office (4 digits) + legal-form code (2)
        + serial (6) as for real 会社法人等番号 (reference/houjin_bangou.md §1).
        """
        while True:
            base = (
                f"{int(prefecture):02d}{self.rng.randint(0, 99):02d}"
                f"{type_code}{self.rng.randint(0, 999_999):06d}"
            )
            number = f"{rules.corporate_number_check_digit(base)}{base}"
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def company(self) -> tuple[Company, tuple[str, ...]]:
        """Return an unsaved company and the products it might consult about."""
        rng = self.rng
        prefecture = _weighted(
            rng,
            [(p, PREFECTURE_WEIGHTS.get(p.code, 1)) for p in self.prefectures],
        )
        city = rng.choice(CITIES.get(prefecture.code, ("",)))
        roll = rng.random()
        if roll < 0.03:
            company = self.university(prefecture)
            company.city = city
            return company, UNIVERSITY_PRODUCTS
        industry = _weighted(rng, [(i, i.weight) for i in INDUSTRIES])
        if roll < 0.15:
            company = self.sole_proprietor(prefecture, industry)
        else:
            company = self.corporation(prefecture, industry)
        company.city = city
        return company, industry.products

    def unique_name(self, make, prefecture: Prefecture) -> tuple[str, str]:
        """Return (name, kana) from make(), avoiding repeats within a prefecture."""
        for _attempt in range(20):
            name, kana = make()
            if (name, prefecture.code) not in self.used_names:
                break
        # Large scales run out of combinations; a repeated name in one
        # prefecture is realistic (法人番号 tells them apart).
        self.used_names.add((name, prefecture.code))
        return name, kana

    def corporation(self, prefecture: Prefecture, industry: Industry) -> Company:
        rng = self.rng
        form_roll = rng.random()
        if form_roll < 0.75:
            form, type_code = "株式会社", "01"
        elif form_roll < 0.88:
            form, type_code = "有限会社", "02"
        else:
            form, type_code = "合同会社", "03"
        is_prefix = form != "株式会社" or rng.random() < 0.55

        def make() -> tuple[str, str]:
            stem, stem_kana = rng.choice(STEMS)
            suffix, suffix_kana = rng.choice(industry.suffixes)
            base = stem + suffix
            name = form + base if is_prefix else base + form
            # NTA furigana leaves the legal form out (houjin_bangou.md §4).
            return name, stem_kana + suffix_kana

        name, kana = self.unique_name(make, prefecture)
        # 有限会社 can no longer be formed after the 会社法 of 2006-05-01, and
        # 合同会社 only since then.
        if form == "有限会社":
            founded_on = _random_date(rng, date(1960, 1, 1), date(2006, 4, 30))
        elif form == "合同会社" or rng.random() < 0.2:
            founded_on = _random_date(rng, date(2006, 5, 1), date(2025, 12, 31))
        else:
            founded_on = _random_date(rng, date(1960, 1, 1), date(2025, 12, 31))
        founded_on = min(founded_on, self.yesterday)
        employees = self.employees()
        capital = self.capital(form, employees)
        has_number = rng.random() < 0.82
        return Company(
            corporate_number=(
                self.corporate_number(type_code, prefecture.code)
                if has_number
                else None
            ),
            name=name,
            name_kana=kana,
            kind=CompanyKind.CORPORATION,
            prefecture=prefecture,
            industry=industry.code,
            capital_yen=capital if rng.random() > 0.05 else None,
            employees=employees if rng.random() > 0.05 else None,
            founded_on=founded_on,
            controlled_by_large_company=rng.random() < 0.03,
        )

    def employees(self) -> int:
        low, high = _weighted(
            self.rng,
            [
                ((1, 5), 30),
                ((6, 20), 30),
                ((21, 50), 20),
                ((51, 300), 15),
                ((301, 2000), 4),
                ((2001, 8000), 1),
            ],
        )
        return self.rng.randint(low, high)

    def capital(self, form: str, employees: int) -> int:
        if form == "有限会社":
            return 3_000_000
        if employees <= 20:
            man_yen = self.rng.choice((100, 300, 500, 1000, 1000, 2000))
        elif employees <= 300:
            man_yen = self.rng.choice((1000, 3000, 5000, 9000, 10000))
        else:
            man_yen = self.rng.choice((10000, 30000, 50000, 100000, 300000))
        return man_yen * 10_000

    def sole_proprietor(self, prefecture: Prefecture, industry: Industry) -> Company:
        rng = self.rng

        def make() -> tuple[str, str]:
            surname, surname_kana = rng.choice(SURNAMES)
            suffix, suffix_kana = rng.choice(SOLE_PROPRIETOR_SUFFIXES)
            return surname + suffix, surname_kana + suffix_kana

        name, kana = self.unique_name(make, prefecture)
        return Company(
            # Sole proprietors have no 法人番号 (reference/houjin_bangou.md §1).
            corporate_number=None,
            name=name,
            name_kana=kana,
            kind=CompanyKind.SOLE_PROPRIETOR,
            prefecture=prefecture,
            industry=industry.code,
            employees=rng.randint(0, 4),
            founded_on=min(
                _random_date(rng, date(1990, 1, 1), date(2025, 12, 31)),
                self.yesterday,
            ),
        )

    def university(self, prefecture: Prefecture) -> Company:
        rng = self.rng

        def make() -> tuple[str, str]:
            stem, stem_kana = rng.choice(UNIVERSITY_STEMS)
            kind, kind_kana = rng.choice(UNIVERSITY_KINDS)
            return stem + kind, stem_kana + kind_kana

        name, kana = self.unique_name(make, prefecture)
        return Company(
            corporate_number=self.corporate_number("05", prefecture.code),
            name=name,
            name_kana=kana,
            kind=CompanyKind.UNIVERSITY,
            prefecture=prefecture,
            industry="O",
            founded_on=_random_date(rng, date(1949, 5, 31), date(2004, 4, 1)),
        )

    # Cases and consultations ----------------------------------------------------

    def owner_code(self, company: Company, theme: Theme) -> str:
        """Return the organisation that owns a new case of the company.

        Mostly a window of the company's prefecture; sometimes one elsewhere in
        its region, where companies near a big city also go.
        """
        rng = self.rng
        if (
            theme.slug == "trade_secret"
            and rng.random() < EXPERT_OWNED_RATE
            and "inpit-expert-trade-secret" in self.organisations
        ):
            return "inpit-expert-trade-secret"
        prefecture = company.prefecture
        if rng.random() < 0.1:
            prefecture = rng.choice(
                [p for p in self.prefectures if p.region_id == prefecture.region_id]
            )
        kind = _weighted(
            rng, [("inpit-window", 60), ("yorozu", 30), ("cci-federation", 10)]
        )
        return f"{kind}-{prefecture.code}"

    def theme_for(self, company: Company) -> Theme:
        rng = self.rng
        if company.kind == CompanyKind.UNIVERSITY:
            return ACADEMIA_THEME if rng.random() < 0.7 else THEMES[0]
        if company.industry in ("A", "09") and rng.random() < 0.3:
            return next(t for t in THEMES if t.slug == "regional_brand")
        return _weighted(
            rng, [(t, t.weight) for t in THEMES if t.slug != "regional_brand"]
        )

    def consultation_dates(self, count: int) -> list[date]:
        """Return the sorted dates of a case's consultations, business days."""
        rng = self.rng
        first = _business_day_near(
            _random_date(rng, self.start, self.yesterday), self.start, self.yesterday
        )
        window_end = min(first + timedelta(days=300), self.yesterday)
        dates = [first] + [
            _business_day_near(_random_date(rng, first, window_end), first, window_end)
            for _n in range(count - 1)
        ]
        return sorted(dates)

    def consultation(
        self, draft: _CaseDraft, on: date, author, *, summary: str
    ) -> Consultation:
        rng = self.rng
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        duration = (
            rng.choice((15, 30))
            if channel == Channel.EMAIL
            else rng.choice((15, 30, 45, 60, 60, 90, 120))
        )
        occurred_at = _jst(on, rng.randint(9, 16), rng.choice((0, 15, 30, 45)))
        case = draft.case
        return Consultation(
            case=case,
            company=case.company,
            organisation=case.organisation,
            author=author,
            occurred_at=occurred_at,
            occurred_on=calendar.local_date(occurred_at),
            fiscal_year=calendar.fiscal_year(occurred_at),
            channel=channel,
            duration_minutes=duration,
            summary=summary,
            advice=rng.choice(ADVICE),
            is_confidential=case.is_confidential,
        )


def _check_network_seeded() -> None:
    """Raise DemoDataError unless seed_network has loaded the organisations."""
    needed = {demo.organisation_code for demo in DEMO_USERS} | {
        f"{kind}-{code:02d}"
        for kind in ("inpit-window", "yorozu", "cci-federation")
        for code in range(1, 48)
    }
    found = set(
        Organisation.objects.filter(code__in=needed).values_list("code", flat=True)
    )
    if Prefecture.objects.count() != 47 or found != needed:
        raise DemoDataError(
            _(
                "ネットワークの組織が登録されていません。先に "
                "manage.py seed_network を実行してください。"
            ),
            code="network_not_seeded",
        )


def demo_data_exists() -> bool:
    """Return whether demo data has been loaded into this database."""
    return AuditEvent.objects.filter(action=MARKER_ACTION).exists()


def demo_data_load(
    *,
    scale: int = 1,
    seed: int = 20261121,
    today: date | None = None,
    companies: int | None = None,
) -> dict[str, int]:
    """Load synthetic demo data once and return the rows created, by kind.

    Return all-zero counts when demo data already exists. *companies*
    overrides the company count (the other counts follow it), so tests can
    load a small set quickly.

    Raises:
        DemoDataError: if the network has not been seeded, or scale < 1.
    """
    if scale < 1 or (companies is not None and companies < 1):
        raise DemoDataError(_("規模は1以上で指定してください。"), code="invalid_scale")
    today = today or timezone.localdate()
    with transaction.atomic():
        if demo_data_exists():
            return _empty_counts()
        _check_network_seeded()
        company_count = companies or COMPANIES_PER_SCALE * scale
        generator = _Generator(rng=random.Random(seed), seed=seed, today=today)
        generator.create_demo_users()
        _load(generator, company_count)
        AuditEvent.objects.create(
            action=MARKER_ACTION,
            data={"seed": seed, "scale": scale, "counts": generator.counts},
        )
    return generator.counts


def _load(gen: _Generator, company_count: int) -> None:
    """Run the passes of the generator in dependency order."""
    companies, products = _load_companies(gen, company_count)
    drafts = _load_cases(gen, companies, products)
    _load_consultations(gen, drafts, company_count * CONSULTATIONS_PER_COMPANY)
    consents = _load_consents(gen, drafts)
    _load_follow_ups(gen, drafts)
    _load_referrals(gen, drafts, consents)
    _load_outcomes(gen, drafts)


def _load_companies(gen: _Generator, count: int) -> tuple[list[Company], list]:
    """Create *count* companies; return them and the products of each."""
    companies, products = [], []
    for _n in range(count):
        company, company_products = gen.company()
        company_derive_keys(company)
        companies.append(company)
        products.append(company_products)
    # Numbers already in the database (companies registered by hand) are
    # replaced, so the partial unique constraint holds.
    numbers = [c.corporate_number for c in companies if c.corporate_number]
    taken: set[str] = set()
    for start in range(0, len(numbers), BATCH_SIZE):
        taken |= set(
            Company.objects.filter(
                corporate_number__in=numbers[start : start + BATCH_SIZE]
            ).values_list("corporate_number", flat=True)
        )
    for company in companies:
        while company.corporate_number in taken:
            type_code = company.corporate_number[5:7]
            company.corporate_number = gen.corporate_number(
                type_code, company.prefecture_id
            )
    Company.objects.bulk_create(companies, batch_size=BATCH_SIZE)
    gen.counts["companies"] = len(companies)
    return companies, products


def _load_cases(gen: _Generator, companies: list[Company], products: list) -> list:
    """Draft the cases (saved with their consultations) and return the drafts."""
    rng = gen.rng
    case_count = len(companies) * CASES_PER_COMPANY
    # Nine in ten companies have a case; the rest were registered only.
    with_case = list(range(len(companies)))
    rng.shuffle(with_case)
    firsts = with_case[: max(1, round(len(companies) * 0.9))]
    owners = firsts + [
        rng.choice(firsts) for _n in range(max(0, case_count - len(firsts)))
    ]
    drafts = []
    for index in owners:
        company = companies[index]
        theme = gen.theme_for(company)
        words = {
            "product": rng.choice(products[index]),
            "brand": rng.choice(BRANDS),
            "country": rng.choice(COUNTRIES),
        }
        owner = gen.owner_code(company, theme)
        assignee = gen.pick_staff(owner)
        case = Case(
            company=company,
            organisation=gen.organisations[owner],
            title=theme.title.format(**words),
            is_confidential=rng.random() < theme.confidential_rate,
            assignee=assignee,
            created_by=assignee,
        )
        drafts.append(_CaseDraft(case=case, theme=theme, words=words))
        if company.registered_by_id is None:
            company.registered_by = case.organisation
    Company.objects.bulk_update(
        [c for c in companies if c.registered_by_id], ["registered_by"], BATCH_SIZE
    )
    return drafts


def _load_consultations(gen: _Generator, drafts: list, total: int) -> None:
    """Create the cases and *total* consultations with topics and IP types."""
    rng = gen.rng
    per_case = [1] * len(drafts)
    # A few cases run long; most have one or two consultations.
    weights = [rng.choice((1, 1, 1, 2, 4)) for _d in drafts]
    for index in rng.choices(
        range(len(drafts)), weights=weights, k=max(0, total - len(drafts))
    ):
        per_case[index] += 1
    for draft, count in zip(drafts, per_case, strict=True):
        case = draft.case
        for on in gen.consultation_dates(count):
            summary = draft.fill(rng.choice(draft.theme.summaries))
            draft.consultations.append(
                gen.consultation(draft, on, case.assignee, summary=summary)
            )
        case.opened_on = draft.consultations[0].occurred_on
        last = draft.consultations[-1].occurred_on
        if (gen.today - last).days > 120 and rng.random() < 0.7:
            case.status = CaseStatus.CLOSED
            case.closed_on = min(last + timedelta(days=rng.randint(7, 60)), gen.today)
    Case.objects.bulk_create([d.case for d in drafts], batch_size=BATCH_SIZE)
    consultations = []
    for draft in drafts:
        consultations.extend(draft.consultations)
    first_of_company: dict[int, Consultation] = {}
    for c in consultations:
        first = first_of_company.get(c.company_id)
        if first is None or c.occurred_at < first.occurred_at:
            first_of_company[c.company_id] = c
    for c in first_of_company.values():
        c.is_company_first = True
    Consultation.objects.bulk_create(consultations, batch_size=BATCH_SIZE)

    topics, ip_types, attendances = [], [], []
    attendee_model = Consultation.attendees.through
    for draft in drafts:
        theme = draft.theme
        for consultation in draft.consultations:
            extra = rng.randint(0, min(2, len(theme.topics) - 1))
            chosen = [theme.topics[0], *rng.sample(theme.topics[1:], extra)]
            topics += [
                ConsultationTopic(consultation=consultation, topic=t) for t in chosen
            ]
            if rng.random() < 0.85:
                kinds = rng.sample(theme.ip_types, rng.randint(1, len(theme.ip_types)))
                ip_types += [
                    ConsultationIpType(consultation=consultation, ip_type=k)
                    for k in kinds
                ]
            attendances += _joint_attendance(gen, consultation, attendee_model)
    ConsultationTopic.objects.bulk_create(topics, batch_size=BATCH_SIZE)
    ConsultationIpType.objects.bulk_create(ip_types, batch_size=BATCH_SIZE)
    attendee_model.objects.bulk_create(attendances, batch_size=BATCH_SIZE)
    consultation_facts_refresh(consultation_ids=[c.pk for c in consultations])
    gen.counts["cases"] = len(drafts)
    gen.counts["consultations"] = len(consultations)
    gen.counts["consultation_topics"] = len(topics)
    gen.counts["consultation_ip_types"] = len(ip_types)
    gen.counts["joint_attendances"] = len({a.consultation_id for a in attendances})


def _joint_attendance(gen: _Generator, consultation: Consultation, model) -> list:
    """Return attendee rows when an INPIT window and a yorozu met the client together.

    Both organisations are listed (相互同席), so "linked INPIT–yorozu
    consultations" (DESIGN.md statistics) can be counted from attendees alone.
    """
    organisation = consultation.organisation
    if organisation.kind not in (
        OrganisationKind.INPIT_WINDOW,
        OrganisationKind.YOROZU,
    ) or (gen.rng.random() >= JOINT_ATTENDANCE_RATE):
        return []
    code = organisation.prefecture_id
    pair = [
        gen.organisations[f"inpit-window-{code}"],
        gen.organisations[f"yorozu-{code}"],
    ]
    return [
        model(consultation_id=consultation.pk, organisation_id=org.pk) for org in pair
    ]


def _load_consents(gen: _Generator, drafts: list) -> dict[int, Consent]:
    """Record network-wide consents for ~40% of the companies.

    The consent is taken at the company's first consultation, by the window
    that held it (APPI art. 27).
    """
    rng = gen.rng
    first_case: dict[int, _CaseDraft] = {}
    for draft in sorted(drafts, key=lambda d: d.case.opened_on):
        first_case.setdefault(draft.case.company_id, draft)
    consents = {}
    for company_id, draft in first_case.items():
        # 0.44 of the nine in ten companies with a case: ~40% of all.
        if rng.random() >= 0.44:
            continue
        consents[company_id] = Consent(
            company_id=company_id,
            scope=ConsentScope.NETWORK,
            obtained_on=draft.case.opened_on,
            method=_weighted(
                rng,
                [
                    (ConsentMethod.WRITTEN, 50),
                    (ConsentMethod.ELECTRONIC, 35),
                    (ConsentMethod.VERBAL, 15),
                ],
            ),
            recorded_by=draft.case.assignee,
            organisation=draft.case.organisation,
        )
    Consent.objects.bulk_create(consents.values(), batch_size=BATCH_SIZE)
    gen.counts["consents"] = len(consents)
    return consents


def _load_follow_ups(gen: _Generator, drafts: list) -> None:
    """Give ~30% of consultations a next action, recent ones more often.

    Old follow-ups are mostly done; recent ones are open, a few overdue, so
    the reminder sweep has work on the first day.
    """
    rng = gen.rng
    candidates = [(d, c) for d in drafts for c in d.consultations]
    recent = gen.today - timedelta(days=60)

    # Weighted sampling without replacement (Efraimidis–Spirakis).
    def key(pair) -> float:
        weight = 5 if pair[1].occurred_on >= recent else 1
        return rng.random() ** (1 / weight)

    keyed = sorted(((key(p), i) for i, p in enumerate(candidates)), reverse=True)
    chosen = sorted(i for _k, i in keyed[: round(len(candidates) * 0.3)])
    follow_ups, consultations = [], []
    for index in chosen:
        draft, consultation = candidates[index]
        case = draft.case
        note = rng.choice(draft.theme.next_actions)
        consultation.next_action = note
        consultations.append(consultation)
        due_on = calendar.add_business_days(
            consultation.occurred_on, rng.choice((3, 5, 10, 15, 20))
        )
        if case.status == CaseStatus.CLOSED:
            is_done = True
        elif due_on < gen.today:
            is_done = rng.random() < (0.9 if (gen.today - due_on).days > 30 else 0.5)
        else:
            is_done = rng.random() < 0.1
        done_at = None
        if is_done:
            latest = min(due_on + timedelta(days=3), gen.yesterday)
            if case.closed_on:
                latest = min(latest, case.closed_on)
            earliest = consultation.occurred_on + timedelta(days=1)
            if earliest > latest:
                is_done = False  # too recent to have been done already
            else:
                done_at = _jst(_random_date(rng, earliest, latest), rng.randint(9, 17))
        follow_ups.append(
            FollowUp(
                case=case,
                consultation=consultation,
                organisation=case.organisation,
                assignee=consultation.author,
                due_on=due_on,
                note=note,
                status=FollowUpStatus.DONE if is_done else FollowUpStatus.OPEN,
                done_at=done_at,
            )
        )
    Consultation.objects.bulk_update(consultations, ["next_action"], BATCH_SIZE)
    FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH_SIZE)
    gen.counts["follow_ups"] = len(follow_ups)


def _referral_target(gen: _Generator, draft: _CaseDraft) -> Organisation | None:
    """Return where a case of this theme goes next, never its own organisation."""
    owner = draft.case.organisation
    code = owner.prefecture_id
    choices = []
    if draft.theme.slug in THEME_EXPERT_WINDOW:
        choices.append(THEME_EXPERT_WINDOW[draft.theme.slug])
    if owner.kind == OrganisationKind.INPIT_WINDOW:
        choices.append(f"yorozu-{code}")
        branch = owner.prefecture.jpaa_branch if owner.prefecture else None
        if branch is not None:
            choices.append(branch.code)
    else:
        choices.append(f"inpit-window-{code}")
    choices = [c for c in choices if c in gen.organisations and c != owner.code]
    return gen.organisations[gen.rng.choice(choices)] if choices else None


def _load_referrals(gen: _Generator, drafts: list, consents: dict) -> None:
    """Refer ~5% of the open cases whose company gave network-wide consent.

    A quarter go to the most recent cases so the inboxes show unanswered
    referrals; the rest are spread over the years and mostly completed.
    """
    rng = gen.rng
    candidates = [
        d
        for d in drafts
        if d.case.status == CaseStatus.OPEN
        and d.case.company_id in consents
        and d.case.organisation.prefecture_id
    ]
    wanted = max(1, round(len(drafts) * 0.05)) if candidates else 0
    candidates.sort(key=lambda d: d.consultations[-1].occurred_at, reverse=True)
    recent = candidates[: max(1, wanted // 4)]
    rest = candidates[len(recent) :]
    picked = recent + rng.sample(rest, min(len(rest), wanted - len(recent)))
    referrals, topics, records = [], [], []
    for draft in picked:
        target = _referral_target(gen, draft)
        if target is None:
            continue
        case = draft.case
        consultation = draft.consultations[-1]
        sent_at = consultation.occurred_at + timedelta(hours=2)
        sent_on = calendar.local_date(sent_at)
        referral = Referral(
            case=case,
            from_organisation=case.organisation,
            to_organisation=target,
            sent_by=consultation.author,
            reason=REFERRAL_REASONS.get(
                target.kind, REFERRAL_REASONS[OrganisationKind.INPIT_WINDOW]
            ),
            consent=consents[case.company_id],
            sent_at=sent_at,
            respond_by=calendar.add_business_days(sent_on, 3),
        )
        _answer_referral(gen, referral, sent_on)
        referrals.append(referral)
        topics.append(draft.theme.topics[:2])
        records.append(
            ProvisionRecord(
                referral=referral,
                provider=case.organisation,
                recipient=target,
                company=case.company,
                provided_on=sent_on,
                items_shared=list(PROVISION_ITEMS),
                consent=referral.consent,
            )
        )
    Referral.objects.bulk_create(referrals, batch_size=BATCH_SIZE)
    ReferralTopic.objects.bulk_create(
        [
            ReferralTopic(referral=referral, topic=topic)
            for referral, slugs in zip(referrals, topics, strict=True)
            for topic in slugs
        ],
        batch_size=BATCH_SIZE,
    )
    ProvisionRecord.objects.bulk_create(records, batch_size=BATCH_SIZE)
    gen.counts["referrals"] = len(referrals)
    gen.counts["provision_records"] = len(records)


def _answer_referral(gen: _Generator, referral: Referral, sent_on: date) -> None:
    """Move a referral as far along its life cycle as its age allows.

    The receiver answers within 1–3 business days (DESIGN.md "Rules"); a
    referral sent in the last days may still be waiting, and one older than
    the 10-business-day expiry never is.
    """
    rng = gen.rng
    answered_on = calendar.add_business_days(sent_on, rng.randint(1, 3))
    if answered_on >= gen.today:
        return
    waiting = calendar.business_days_between(sent_on, gen.today) <= 10
    if waiting and rng.random() < 0.3:
        return
    referral.status = ReferralStatus.ACCEPTED
    referral.answered_at = _jst(answered_on, rng.randint(9, 17))
    referral.answer_business_days = calendar.business_days_between(
        sent_on, answered_on
    )
    referral.answered_by = gen.pick_staff(referral.to_organisation.code)
    referral.answer_note = "お引き受けします。担当者から企業に連絡します。"
    completed_on = answered_on + timedelta(days=rng.randint(7, 60))
    if completed_on >= gen.today or rng.random() < 0.25:
        return
    referral.status = ReferralStatus.COMPLETED
    referral.completed_at = _jst(completed_on, rng.randint(9, 17))
    referral.outcome_note = rng.choice(REFERRAL_OUTCOME_NOTES)


# Application prefix, registration wording and a plausible range of recent
# registration numbers, by IP type.
REGISTRIES = {
    "patent": ("特願", "特許第{n}号", 7_400_000, 7_800_000),
    "trademark": ("商願", "商標登録第{n}号", 6_700_000, 7_100_000),
    "design": ("意願", "意匠登録第{n}号", 1_750_000, 1_800_000),
}
THEME_IP_TYPE = {"trademark": "trademark", "regional_brand": "trademark"}


def _outcome_for(gen: _Generator, draft: _CaseDraft, on: date) -> Outcome:
    """Return an outcome that fits the case's theme, dated *on*."""
    rng = gen.rng
    slug = draft.theme.slug
    ip_type = THEME_IP_TYPE.get(slug, "design" if slug == "design" else "patent")
    prefix, registration, low, high = REGISTRIES[ip_type]
    amount = None
    if slug == "licensing":
        kind, reference, ip_type = OutcomeKind.LICENCE, "", ""
        amount = rng.randint(10, 300) * 100_000
    elif slug in ("ip_finance", "startup") and rng.random() < 0.6:
        kind, reference, ip_type = OutcomeKind.FINANCING, "", ""
        amount = rng.randint(10, 300) * 1_000_000
    elif slug == "overseas":
        # 中小企業等外国出願支援事業: at most ¥1.5M per patent case (reference/programs.md).
        kind, reference, ip_type = OutcomeKind.SUBSIDY, "", ""
        amount = rng.randint(3, 15) * 100_000
    elif rng.random() < 0.7:
        kind = OutcomeKind.FILING
        reference = f"{prefix}{on.year}-{rng.randint(1, 60_000):06d}"
    else:
        kind = OutcomeKind.REGISTRATION
        reference = registration.format(n=rng.randint(low, high))
    case = draft.case
    return Outcome(
        case=case,
        company=case.company,
        organisation=case.organisation,
        kind=kind,
        ip_type=ip_type,
        occurred_on=on,
        reference=reference,
        amount_yen=amount,
        note=draft.fill("{product}"),
        recorded_by=case.assignee,
    )


def _load_outcomes(gen: _Generator, drafts: list) -> None:
    """Record an outcome for some cases, after their last consultation."""
    rng = gen.rng
    outcomes = []
    for draft in drafts:
        if rng.random() >= OUTCOME_RATE:
            continue
        last = draft.consultations[-1].occurred_on
        if last >= gen.yesterday:
            continue
        on = _random_date(
            rng,
            last + timedelta(days=1),
            min(last + timedelta(days=120), gen.yesterday),
        )
        outcomes.append(_outcome_for(gen, draft, on))
    Outcome.objects.bulk_create(outcomes, batch_size=BATCH_SIZE)
    gen.counts["outcomes"] = len(outcomes)
