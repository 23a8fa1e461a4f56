"""Vocabulary of the demo data: names, places, industries, consultation themes.

Weights and word lists from which the generator draws; plain data, no
queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.choices import (
    Channel,
)
from support_network.choices import OrganisationKind

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
