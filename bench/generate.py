"""Generate national-scale data for the benchmarks: companies, then activity.

    DJANGO_SETTINGS_MODULE=config.settings \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench \
    python -m bench.generate --scale national   # 1M companies, 5M consultations
    python -m bench.generate --scale small      # 20k companies, 100k consultations
    python -m bench.generate --scale national --consultations 2000000  # in between

Creates the database (UTF8, LC_CTYPE C.UTF-8: pg_trgm needs it for Japanese) when
missing, runs ``migrate`` and ``seed_network``, then fills ``crm_company`` with
PostgreSQL COPY (derived columns from the app's crm.rules functions), then the
activity of 10 fiscal years in SQL (INSERT … SELECT over generate_series and
temporary tables, no ORM saves): staff users per organisation, cases (1–3
consultations of a company at one organisation), consultations with topics, IP
types and joint attendance, follow-ups (most done, some open or overdue),
referrals (statuses by age, `respond_by` and `answer_business_days` on the
business-day calendar), enrolments in program rounds, and each company's first
consultation marked as the app keeps it.
Idempotent: each part tops its tables up to the scale's numbers and does nothing
when they are reached. Prints the time each step took.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

SCALES = {"small": 20_000, "national": 1_000_000}

# (surface, reading) vocabularies ---------------------------------------------------
PREFIXES = [
    ("日本", "ニホン"),
    ("東京", "トウキョウ"),
    ("大和", "ヤマト"),
    ("みらい", "ミライ"),
    ("ひかり", "ヒカリ"),
    ("サクラ", "サクラ"),
    ("富士", "フジ"),
    ("関東", "カントウ"),
    ("関西", "カンサイ"),
    ("中央", "チュウオウ"),
    ("北斗", "ホクト"),
    ("東洋", "トウヨウ"),
    ("三和", "サンワ"),
    ("太陽", "タイヨウ"),
    ("新光", "シンコウ"),
    ("昭和", "ショウワ"),
    ("平成", "ヘイセイ"),
    ("令和", "レイワ"),
    ("丸", "マル"),
    ("山本", "ヤマモト"),
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
    ("グローバル", "グローバル"),
    ("アジア", "アジア"),
    ("ネクスト", "ネクスト"),
    ("アクア", "アクア"),
    ("テクノ", "テクノ"),
    ("エコ", "エコ"),
    ("あおば", "アオバ"),
    ("つばさ", "ツバサ"),
    ("さくら", "サクラ"),
    ("こだま", "コダマ"),
    ("瑞穂", "ミズホ"),
    ("千代田", "チヨダ"),
    ("青葉", "アオバ"),
    ("若葉", "ワカバ"),
    ("旭", "アサヒ"),
    ("朝日", "アサヒ"),
    ("白山", "ハクサン"),
    ("金剛", "コンゴウ"),
    ("光", "ヒカリ"),
    ("ABC", "エービーシー"),
    ("KS", "ケーエス"),
    ("JT", "ジェイティー"),
]
STEMS = [
    ("精工", "セイコウ"),
    ("技研", "ギケン"),
    ("商事", "ショウジ"),
    ("製作所", "セイサクショ"),
    ("フーズ", "フーズ"),
    ("テック", "テック"),
    ("電機", "デンキ"),
    ("化学", "カガク"),
    ("物産", "ブッサン"),
    ("工業", "コウギョウ"),
    ("ソリューションズ", "ソリューションズ"),
    ("産業", "サンギョウ"),
    ("建設", "ケンセツ"),
    ("電子", "デンシ"),
    ("製薬", "セイヤク"),
    ("食品", "ショクヒン"),
    ("興業", "コウギョウ"),
    ("設計", "セッケイ"),
    ("印刷", "インサツ"),
    ("システムズ", "システムズ"),
    ("エンジニアリング", "エンジニアリング"),
    ("工務店", "コウムテン"),
    ("運輸", "ウンユ"),
    ("倉庫", "ソウコ"),
    ("農園", "ノウエン"),
    ("酒造", "シュゾウ"),
    ("醸造", "ジョウゾウ"),
    ("鉄工所", "テッコウジョ"),
    ("金属", "キンゾク"),
    ("樹脂", "ジュシ"),
    ("繊維", "センイ"),
    ("光学", "コウガク"),
    ("機械", "キカイ"),
    ("ラボ", "ラボ"),
    ("デザイン", "デザイン"),
    ("ホールディングス", "ホールディングス"),
    ("メディカル", "メディカル"),
    ("バイオ", "バイオ"),
    ("ロボティクス", "ロボティクス"),
    ("マテリアル", "マテリアル"),
]
PLACES = [
    ("札幌", "サッポロ"),
    ("仙台", "センダイ"),
    ("横浜", "ヨコハマ"),
    ("川崎", "カワサキ"),
    ("名古屋", "ナゴヤ"),
    ("京都", "キョウト"),
    ("大阪", "オオサカ"),
    ("神戸", "コウベ"),
    ("広島", "ヒロシマ"),
    ("福岡", "フクオカ"),
    ("熊本", "クマモト"),
    ("那覇", "ナハ"),
    ("新潟", "ニイガタ"),
    ("金沢", "カナザワ"),
    ("静岡", "シズオカ"),
    ("浜松", "ハママツ"),
    ("岡山", "オカヤマ"),
    ("高松", "タカマツ"),
    ("松山", "マツヤマ"),
    ("長野", "ナガノ"),
    ("宇都宮", "ウツノミヤ"),
    ("水戸", "ミト"),
    ("前橋", "マエバシ"),
    ("甲府", "コウフ"),
    ("岐阜", "ギフ"),
    ("津", "ツ"),
    ("大津", "オオツ"),
    ("奈良", "ナラ"),
    ("鳥取", "トットリ"),
    ("松江", "マツエ"),
    ("山口", "ヤマグチ"),
    ("徳島", "トクシマ"),
    ("高知", "コウチ"),
    ("佐賀", "サガ"),
    ("長崎", "ナガサキ"),
    ("大分", "オオイタ"),
    ("宮崎", "ミヤザキ"),
    ("鹿児島", "カゴシマ"),
    ("盛岡", "モリオカ"),
    ("秋田", "アキタ"),
    ("山形", "ヤマガタ"),
    ("福島", "フクシマ"),
    ("富山", "トヤマ"),
    ("福井", "フクイ"),
    ("堺", "サカイ"),
    ("八王子", "ハチオウジ"),
    ("豊田", "トヨタ"),
    ("四日市", "ヨッカイチ"),
    ("姫路", "ヒメジ"),
]
SYLLABLES = [
    "ア",
    "イ",
    "ウ",
    "エ",
    "オ",
    "カ",
    "キ",
    "ク",
    "ケ",
    "コ",
    "サ",
    "シ",
    "ス",
    "セ",
    "ソ",
    "タ",
    "チ",
    "ツ",
    "テ",
    "ト",
    "ナ",
    "ニ",
    "ヌ",
    "ネ",
    "ノ",
    "ハ",
    "ヒ",
    "フ",
    "ヘ",
    "ホ",
    "マ",
    "ミ",
    "ム",
    "メ",
    "モ",
    "ヤ",
    "ユ",
    "ヨ",
    "ラ",
    "リ",
    "ル",
    "レ",
    "ロ",
    "ワ",
    "ン",
    "ガ",
    "ギ",
    "グ",
    "ゲ",
    "ゴ",
    "ザ",
    "ジ",
    "ズ",
    "ゼ",
    "ゾ",
    "ダ",
    "デ",
    "ド",
    "バ",
    "ビ",
    "ブ",
    "ベ",
    "ボ",
    "パ",
    "ピ",
    "プ",
    "ペ",
    "ポ",
]
# (form as written, reading, weight)
LEGAL_FORMS = [
    ("株式会社", "カブシキガイシャ", 70),
    ("有限会社", "ユウゲンガイシャ", 15),
    ("合同会社", "ゴウドウガイシャ", 10),
    ("一般社団法人", "イッパンシャダンホウジン", 2),
    ("合資会社", "ゴウシガイシャ", 1),
    ("特定非営利活動法人", "トクテイヒエイリカツドウホウジン", 2),
]
# Prefecture populations (thousands, 2020 census, rounded), JIS order 01..47.
PREF_POP = [
    5225,
    1238,
    1211,
    2302,
    960,
    1068,
    1833,
    2867,
    1933,
    1939,
    7345,
    6284,
    14048,
    9237,
    2201,
    1035,
    1133,
    767,
    810,
    2048,
    1979,
    3633,
    7542,
    1770,
    1414,
    2578,
    8838,
    5465,
    1324,
    923,
    553,
    671,
    1888,
    2800,
    1342,
    720,
    950,
    1335,
    692,
    5135,
    811,
    1312,
    1738,
    1124,
    1070,
    1588,
    1467,
]
INDUSTRIES = [
    "0911",
    "0999",
    "1011",
    "2411",
    "2611",
    "2691",
    "2711",
    "2811",
    "2911",
    "2999",
    "3011",
    "3111",
    "3211",
    "3911",
    "3912",
    "3921",
    "4011",
    "4411",
    "5011",
    "5211",
    "5311",
    "5511",
    "5611",
    "5711",
    "5811",
    "6011",
    "7011",
    "7211",
    "7261",
    "7411",
    "7421",
    "7611",
    "7711",
    "8011",
    "8311",
    "0611",
    "0621",
    "3711",
    "",
    "E",
    "G",
    "L",
]
CITIES = ["中央区", "北区", "南区", "東区", "西区", "市内", "本町", "駅前", ""]

COLUMNS = (
    "created_at",
    "updated_at",
    "corporate_number",
    "name",
    "name_kana",
    "name_norm",
    "name_key",
    "kana_key",
    "kind",
    "prefecture_id",
    "city",
    "industry",
    "capital_yen",
    "employees",
    "founded_on",
    "controlled_by_large_company",
    "size_class",
    "registered_by_id",
    "merged_into_id",
)


def _word(rng: random.Random) -> tuple[str, str]:
    kana = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return kana, kana


def make_name(rng: random.Random, i: int) -> tuple[str, str, str]:
    """Return (name, name_kana, kind) for row number *i*."""
    pattern = rng.random()
    if pattern < 0.35:
        head = rng.choice(PREFIXES)
        parts = [head, rng.choice(STEMS)]
        if rng.random() < 0.6:
            parts.insert(rng.choice((0, 1, 2)), rng.choice(PLACES))
    elif pattern < 0.6:
        parts = [_word(rng), rng.choice(STEMS)]
        if rng.random() < 0.3:
            parts.insert(0, rng.choice(PLACES))
    elif pattern < 0.8:
        parts = [rng.choice(PLACES), rng.choice(PREFIXES), rng.choice(STEMS)]
    else:
        parts = [rng.choice(PREFIXES), _word(rng), rng.choice(STEMS)]
    surface = "".join(p[0] for p in parts)
    reading = "".join(p[1] for p in parts)
    if rng.random() < 0.25:  # numeric disambiguator (第二…, 2, 21 …)
        n = rng.randint(1, 99)
        surface += str(n)
        reading += str(n)
    if rng.random() < 0.05:  # sole proprietor: no legal form
        return surface, reading, "sole_proprietor"
    form, form_kana, _ = rng.choices(LEGAL_FORMS, weights=[f[2] for f in LEGAL_FORMS])[
        0
    ]
    kind = "association" if "法人" in form else "corporation"
    before = rng.random() < 0.45 if form == "株式会社" else rng.random() < 0.7
    if form == "株式会社" and rng.random() < 0.04:
        form = "㈱"
    with_form_kana = rng.random() < 0.3
    if before:
        name = form + surface
        kana = (form_kana if with_form_kana else "") + reading
    else:
        name = surface + form
        kana = reading + (form_kana if with_form_kana else "")
    r = rng.random()
    if r < 0.02:  # typed in half-width kana / with a space
        import jaconv

        name = jaconv.z2h(name, kana=True, ascii=False, digit=False)
    elif r < 0.04:
        name = name.replace(surface, surface[:1] + "\u3000" + surface[1:], 1)
    return name, kana, kind


def make_rows(start: int, count: int, seed: int, now: datetime):
    """Yield COPY rows for companies start..start+count-1."""
    from crm.rules.company_size import size_class
    from crm.rules.corporate_number import corporate_number_check_digit
    from crm.rules.names import kana_key, name_key, normalise_name

    rng = random.Random(seed * 1_000_003 + start)
    prefs = [f"{i:02d}" for i in range(1, 48)]
    for i in range(start, start + count):
        name, kana, kind = make_name(rng, i)
        corporate_number = None
        if kind != "sole_proprietor" and rng.random() < 0.74:
            base = f"{100_000_000_000 + i:012d}"  # unique: counter
            corporate_number = f"{corporate_number_check_digit(base)}{base}"
        industry = rng.choice(INDUSTRIES)
        capital = (
            None
            if kind == "sole_proprietor" or rng.random() < 0.15
            else int(rng.lognormvariate(16.2, 1.6))
        )
        employees = None if rng.random() < 0.1 else int(rng.lognormvariate(2.0, 1.5))
        size = size_class(
            kind=kind,
            industry=industry or None,
            capital_yen=capital,
            employees=employees,
        )
        founded = (
            None
            if rng.random() < 0.2
            else date(1950, 1, 1) + timedelta(days=rng.randint(0, 27000))
        )
        yield (
            now,
            now,
            corporate_number,
            name,
            kana,
            normalise_name(name),
            name_key(name),
            kana_key(kana),
            kind,
            rng.choices(prefs, weights=PREF_POP)[0],
            rng.choice(CITIES),
            industry,
            capital,
            employees,
            founded,
            rng.random() < 0.02,
            size,
            None,
            None,
        )


# --- Activity at national scale: cases, consultations, referrals, follow-ups ------
#
# Everything below runs in PostgreSQL (INSERT … SELECT over generate_series and
# temporary tables): Python only decides the sizes and passes the lookup arrays.

# (consultations, referrals, follow-ups, enrolments per seat of a program round)
ACTIVITY_SCALES = {
    "small": (100_000, 10_000, 40_000, 0.5),
    "national": (5_000_000, 500_000, 2_000_000, 2.0),
}
FISCAL_YEARS = 10  # the current one (up to yesterday) and the 9 before it
# Relative volume per fiscal year, oldest first (the network grew; FY2020 dipped).
FY_GROWTH = [0.72, 0.78, 0.84, 0.80, 0.88, 0.95, 1.00, 1.08, 1.14, 1.20]
# Share of consultations per kind of organisation; within a kind, organisations
# are weighted by the population of their prefecture (as companies are).
KIND_SHARE = {
    "yorozu": 0.50,
    "inpit_window": 0.33,
    "cci_federation": 0.10,
    "inpit_expert_window": 0.04,
    "jpaa_branch": 0.03,
}
STAFF_PER_SHARE = 300  # staff users of an organisation: 2 + share × 300
CONSULTATIONS_PER_CASE = [(1, 0.50), (2, 0.28), (3, 0.22)]  # mean 1.72
TOPIC_WEIGHTS = {
    "patent": 26, "trademark": 24, "design": 7, "utility_model": 3, "copyright": 5,
    "trade_secret": 4, "contract": 5, "licensing": 3, "infringement": 4,
    "overseas": 5, "ip_landscape": 2, "ip_finance": 1, "startup": 3, "branding": 4,
    "standardization": 1, "subsidy": 3, "ip_management": 5, "other": 3,
}  # fmt: skip
IP_TYPE_WEIGHTS = {
    "patent": 40, "trademark": 35, "design": 10, "utility_model": 4,
    "copyright": 5, "trade_secret": 4, "plant_variety": 1, "gi": 1, "other": 2,
}  # fmt: skip
CHANNEL_WEIGHTS = {"visit": 40, "phone": 20, "online": 22, "email": 10, "onsite": 8}
SUMMARIES = [
    "新製品の特許出願について、先行技術調査の進め方と出願までの段取りを相談。",
    "自社ブランドの商標登録を検討中。指定商品・役務の選び方と費用感を説明した。",
    "取引先との共同開発契約における知財の帰属条項について助言を求められた。",
    "海外展開（ASEAN）に向けた商標・意匠の出願戦略と補助金の活用について相談。",
    "職務発明規程の整備について。社内規程のひな形と運用上の注意点を紹介。",
    "模倣品が国内ECサイトで販売されている件。証拠保全と警告書の送付手順を説明。",
    "J-PlatPatでの検索方法を知りたいとの相談。操作を一緒に確認した。",
    "新しい包装デザインの意匠登録の可否と、部分意匠の考え方を説明。",
    "営業秘密の管理体制について。秘密管理性の要件と社内ルールの作り方を助言。",
    "ライセンス契約の実施料の相場と契約書の確認ポイントを相談。",
    "創業予定。社名・商品名の商標調査と出願のタイミングについて相談。",
    "補助金申請書の知財に関する記載内容について助言を求められた。",
]
ADVICE = [
    "J-PlatPatでの検索方法を案内し、次回までに候補を整理してもらう。",
    "弁理士への相談を勧め、知財総合支援窓口の専門家派遣を案内した。",
    "出願前に公開しないよう注意し、新規性喪失の例外について説明した。",
    "契約書のひな形を紹介し、帰属・実施権の条項を確認するよう助言。",
    "外国出願補助金の公募時期と要件を説明した。",
]
NEXT_ACTIONS = [
    "先行技術の候補リストを受け取り、出願方針を決める",
    "弁理士との面談日程を調整する",
    "指定商品の案を作成してもらい再相談",
    "契約書案を確認して次回フィードバック",
    "補助金の申請書ドラフトを確認する",
]
REASONS = [
    "出願書類の作成を含む専門的な支援が必要なため、弁理士会へ紹介します。",
    "経営全般の課題があり、よろず支援拠点での伴走支援が適当と判断しました。",
    "知財の観点からの助言が必要なため、知財総合支援窓口へ紹介します。",
    "海外展開に関する専門的な支援が必要なため、専門窓口へ紹介します。",
    "地域の商工会議所での継続的な支援をお願いしたく紹介します。",
]
ACTIVITY_TABLES = (
    "crm_case",
    "crm_consultation",
    "crm_consultationtopic",
    "crm_consultationiptype",
    "crm_consultation_attendees",
    "crm_referral",
    "crm_referraltopic",
    "crm_followup",
    "crm_consultationfact",
)


def _slots(weights: dict, n: int = 1000) -> list:
    """Return a lookup array of n slots filled in proportion to the weights."""
    total = sum(weights.values())
    out: list = []
    for key, w in weights.items():
        out.extend([key] * round(n * w / total))
    return out or list(weights)


def _timed(label: str):
    """Print how long the block took (a context manager)."""
    import contextlib

    @contextlib.contextmanager
    def timer():
        t0 = time.perf_counter()
        yield
        print(f"  {label}: {time.perf_counter() - t0:.1f}s", flush=True)

    return timer()


def _count(cur, table: str) -> int:
    cur.execute(f"SELECT count(*) FROM {table}")
    return cur.fetchone()[0]


def _restore_indexes(cur) -> None:
    """Re-create indexes a bulk load dropped (also after a crash mid-load)."""
    cur.execute("SELECT to_regclass('bench_dropped_index')")
    if cur.fetchone()[0] is None:
        return
    cur.execute("SELECT name, definition FROM bench_dropped_index ORDER BY name")
    rows = cur.fetchall()
    for name, definition in rows:
        t0 = time.perf_counter()
        cur.execute(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        cur.execute("DELETE FROM bench_dropped_index WHERE name = %s", [name])
        print(f"  index {name} rebuilt: {time.perf_counter() - t0:.1f}s", flush=True)
    cur.execute("DROP TABLE bench_dropped_index")


def _drop_indexes(cur, tables) -> None:
    """Drop the secondary indexes of tables before a bulk load (kept in a table).

    Unique and primary-key indexes stay (constraints); a bulk load into an
    emptyish table then an index build is several times faster than
    maintaining 5–8 btrees row by row.
    """
    cur.execute(
        "CREATE TABLE IF NOT EXISTS bench_dropped_index "
        "(name text PRIMARY KEY, definition text NOT NULL)"
    )
    cur.execute(
        """
        SELECT i.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary
        """,
        [list(tables)],
    )
    for name, definition in cur.fetchall():
        cur.execute(
            "INSERT INTO bench_dropped_index VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [name, definition],
        )
        cur.execute(f'DROP INDEX IF EXISTS "{name}"')
    print(f"  dropped the secondary indexes of {', '.join(tables)} for the load")


def _setup_lookups(cur, *, today: date, first_fy: int) -> dict:
    """Create the temporary lookup tables every step uses; return the arrays."""
    from support_network.calendar import is_business_day

    # Calendar: business days, their running count (cum) and the next one.
    start = date(first_fy, 4, 1) - timedelta(days=10)
    end = date(today.year + 2, 12, 31)
    cur.execute(
        "CREATE TEMP TABLE bench_cal (d date PRIMARY KEY, biz boolean, cum int, "
        "next_biz date)"
    )
    cur.execute("CREATE TEMP TABLE bench_biz (k int PRIMARY KEY, d date)")
    days, d, cum = [], start, 0
    while d <= end:
        biz = is_business_day(d)
        cum += biz
        days.append([d, biz, cum])
        d += timedelta(days=1)
    nxt = None
    for row in reversed(days):
        if row[1]:
            nxt = row[0]
        row.append(nxt or row[0])
    with cur.copy("COPY bench_cal (d, biz, cum, next_biz) FROM STDIN") as copy:
        for row in days:
            copy.write_row(row)
    cur.execute("INSERT INTO bench_biz SELECT cum, d FROM bench_cal WHERE biz")

    # Organisations that log consultations, weighted; their staff.
    cur.execute(
        "CREATE TEMP TABLE bench_org AS "
        "SELECT o.id, o.code, o.kind, o.prefecture_id AS pref, 0.0::float AS share, "
        "0 AS n_staff FROM support_network_organisation o "
        "WHERE o.kind = ANY(%s) AND o.is_active",
        [list(KIND_SHARE)],
    )
    cur.execute("SELECT id, kind, pref FROM bench_org")
    orgs = cur.fetchall()
    pop = {f"{i + 1:02d}": p for i, p in enumerate(PREF_POP)}
    by_kind: dict[str, float] = {}
    for _id, kind, pref in orgs:
        by_kind[kind] = by_kind.get(kind, 0) + (pop.get(pref, 1000) if pref else 1000)
    shares = {}
    for oid, kind, pref in orgs:
        w = pop.get(pref, 1000) if pref else 1000
        shares[oid] = KIND_SHARE[kind] * w / by_kind[kind]
    for oid, share in shares.items():
        cur.execute(
            "UPDATE bench_org SET share = %s, n_staff = %s WHERE id = %s",
            [share, 2 + round(share * STAFF_PER_SHARE), oid],
        )
    cur.execute(
        """
        INSERT INTO auth_user (password, last_login, is_superuser, username,
            first_name, last_name, email, is_staff, is_active, date_joined)
        SELECT '!bench', NULL, false, 'b.' || o.code || '.' || lpad(k::text, 3, '0'),
            '', '', '', false, true, now()
        FROM bench_org o, generate_series(1, o.n_staff) k
        ON CONFLICT (username) DO NOTHING
        """
    )
    cur.execute(
        "CREATE TEMP TABLE bench_staff AS "
        "SELECT o.id AS org_id, k, u.id AS user_id "
        "FROM bench_org o CROSS JOIN LATERAL generate_series(1, o.n_staff) k "
        "JOIN auth_user u ON u.username = 'b.' || o.code || '.' || lpad(k::text, 3, '0')"
    )
    cur.execute("ALTER TABLE bench_staff ADD PRIMARY KEY (org_id, k)")
    cur.execute(
        """
        INSERT INTO support_network_membership (created_at, updated_at, user_id,
            organisation_id, role, is_active, capacity)
        SELECT now(), now(), s.user_id, s.org_id,
            CASE s.k WHEN 1 THEN 'manager' WHEN 2 THEN 'coordinator'
                     ELSE 'window_staff' END, true, 30
        FROM bench_staff s
        ON CONFLICT (user_id, organisation_id) DO NOTHING
        """
    )

    # Companies numbered per prefecture, to draw a company of a prefecture.
    cur.execute(
        "CREATE TEMP TABLE bench_pc AS SELECT prefecture_id AS pref, "
        "row_number() OVER (PARTITION BY prefecture_id ORDER BY id)::int AS rn, "
        "id AS company_id FROM crm_company WHERE merged_into_id IS NULL"
    )
    cur.execute("ALTER TABLE bench_pc ADD PRIMARY KEY (pref, rn)")
    cur.execute(
        "CREATE TEMP TABLE bench_pcnt AS SELECT pref, max(rn) AS n FROM bench_pc "
        "GROUP BY pref"
    )

    # Referral routes: from an organisation to partners, with probabilities.
    cur.execute(
        """
        CREATE TEMP TABLE bench_route AS
        WITH partner AS (
            SELECT f.id AS from_org, t.id AS to_org, r.to_what, r.w
            FROM bench_org f
            JOIN support_network_prefecture p ON p.code = f.pref
            JOIN LATERAL (VALUES
                ('inpit_window', 'jpaa', 0.35), ('inpit_window', 'yorozu', 0.25),
                ('inpit_window', 'expert', 0.20), ('inpit_window', 'cci', 0.20),
                ('yorozu', 'inpit_window', 0.60), ('yorozu', 'cci', 0.20),
                ('yorozu', 'jpaa', 0.20),
                ('cci_federation', 'inpit_window', 0.50),
                ('cci_federation', 'yorozu', 0.50),
                ('inpit_expert_window', 'jpaa', 0.50),
                ('inpit_expert_window', 'inpit_window', 0.50),
                ('jpaa_branch', 'inpit_window', 1.0)
            ) r(from_kind, to_what, w) ON r.from_kind = f.kind
            JOIN bench_org t ON (
                (r.to_what = 'jpaa' AND t.id = p.jpaa_branch_id)
                OR (r.to_what = 'yorozu' AND t.kind = 'yorozu' AND t.pref = f.pref)
                OR (r.to_what = 'cci' AND t.kind = 'cci_federation'
                    AND t.pref = f.pref)
                OR (r.to_what = 'inpit_window' AND t.kind = 'inpit_window'
                    AND t.pref = f.pref)
                OR (r.to_what = 'expert' AND t.kind = 'inpit_expert_window')
            )
            WHERE t.id <> f.id
        ), norm AS (
            SELECT from_org, to_org,
                w / count(*) OVER (PARTITION BY from_org, to_what) AS w FROM partner
        )
        SELECT from_org, to_org,
            coalesce(sum(w) OVER (PARTITION BY from_org ORDER BY to_org
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                / sum(w) OVER (PARTITION BY from_org) AS lo,
            sum(w) OVER (PARTITION BY from_org ORDER BY to_org)
                / sum(w) OVER (PARTITION BY from_org) AS hi
        FROM norm
        """
    )
    # Joint attendance (相互同席): the partner window of the same prefecture.
    cur.execute(
        """
        CREATE TEMP TABLE bench_partner AS
        SELECT DISTINCT ON (f.id) f.id AS org_id, t.id AS partner_id
        FROM bench_org f JOIN bench_org t ON t.pref = f.pref AND t.id <> f.id
            AND t.kind IN ('inpit_window', 'yorozu')
        ORDER BY f.id, t.kind = f.kind, t.id
        """
    )
    for table in ("bench_cal", "bench_biz", "bench_staff", "bench_pc", "bench_route"):
        cur.execute(f"ANALYZE {table}")

    org_weights = {oid: s for oid, s in shares.items()}
    pref_weights = {f"{i + 1:02d}": p for i, p in enumerate(PREF_POP)}
    return {
        "org_slots": _slots(org_weights, 20_000),
        "pref_slots": _slots(pref_weights, 2_000),
        "topic_slots": _slots(TOPIC_WEIGHTS),
        "ip_slots": _slots(IP_TYPE_WEIGHTS),
        "channel_slots": _slots(CHANNEL_WEIGHTS),
    }


def _fy_targets(todo: int, today: date) -> list[tuple[int, int]]:
    """Split todo consultations over the fiscal years, by growth and elapsed time."""
    from support_network.calendar import fiscal_year

    current = fiscal_year(today)
    years = list(range(current - FISCAL_YEARS + 1, current + 1))
    elapsed = (today - date(current, 4, 1)).days / 365
    weights = [
        w * (elapsed if fy == current else 1.0)
        for fy, w in zip(years, FY_GROWTH, strict=True)
    ]
    total = sum(weights)
    out, given = [], 0
    for i, (fy, w) in enumerate(zip(years, weights, strict=True)):
        n = todo - given if i == len(years) - 1 else round(todo * w / total)
        given += n
        out.append((fy, n))
    return out


def _next_ids(cur, table: str, n: int) -> int:
    """Reserve n ids of table's identity sequence; return the first minus one."""
    cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    base = cur.fetchone()[0]
    cur.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [base + n]
    )
    return base


def _cases_and_consultations(cur, fy: int, todo: int, lk: dict, today: date):
    """Write cases and exactly `todo` consultations opened in fiscal year fy."""
    yesterday = today - timedelta(days=1)
    first = date(fy, 4, 1)
    last = min(date(fy + 1, 3, 31), yesterday)
    ndays = (last - first).days + 1
    mean = sum(n * p for n, p in CONSULTATIONS_PER_CASE)
    m = int(todo / mean * 1.04) + 50
    cur.execute(
        """
        CREATE TEMP TABLE bench_cs ON COMMIT DROP AS
        SELECT g,
            (%(org_slots)s::bigint[])[1 + floor(random() * %(n_org)s)::int] AS org_id,
            %(first)s::date + floor(random() * %(ndays)s)::int AS raw_day,
            random() AS r_biz, random() AS r_pref, random() AS r_pref2,
            random() AS r_rn, random() AS r_n, random() AS r_staff,
            random() AS r_assign, random() AS r_conf
        FROM generate_series(1, %(m)s) g
        """,
        {
            "org_slots": lk["org_slots"],
            "n_org": len(lk["org_slots"]),
            "first": first,
            "ndays": ndays,
            "m": m,
        },
    )
    cur.execute(
        """
        CREATE TEMP TABLE bench_cs2 ON COMMIT DROP AS
        SELECT s.g, s.org_id,
            CASE WHEN s.r_biz < 0.97 THEN least(cal.next_biz, %(last)s)
                 ELSE s.raw_day END AS opened_on,
            pc.company_id,
            CASE WHEN s.r_n < 0.50 THEN 1 WHEN s.r_n < 0.78 THEN 2 ELSE 3 END AS n,
            st.user_id AS created_by_id,
            CASE WHEN s.r_assign < 0.75 THEN st.user_id END AS assignee_id,
            s.r_conf < 0.03 AS is_confidential
        FROM bench_cs s
        JOIN bench_org o ON o.id = s.org_id
        JOIN bench_cal cal ON cal.d = s.raw_day
        JOIN bench_pcnt pn ON pn.pref = CASE WHEN s.r_pref < 0.9 THEN o.pref
            ELSE (%(pref_slots)s::text[])[1 + floor(s.r_pref2 * %(n_pref)s)::int] END
        JOIN bench_pc pc ON pc.pref = pn.pref
            AND pc.rn = 1 + floor(pn.n * power(s.r_rn, 1.6))::int
        JOIN bench_staff st ON st.org_id = s.org_id
            AND st.k = 1 + floor(s.r_staff * o.n_staff)::int
        """,
        {
            "last": last,
            "pref_slots": lk["pref_slots"],
            "n_pref": len(lk["pref_slots"]),
        },
    )
    # Keep exactly `todo` consultations: cut the (randomly ordered) list of
    # cases where the running count reaches it, then number the cases by date.
    cur.execute(
        """
        CREATE TEMP TABLE bench_case ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY opened_on, g) AS rn, *
        FROM (
            SELECT g, org_id, opened_on, company_id, created_by_id, assignee_id,
                is_confidential,
                least(n, %(todo)s - (cum - n))::int AS n
            FROM (SELECT *, sum(n) OVER (ORDER BY g) AS cum FROM bench_cs2) x
            WHERE cum - n < %(todo)s
        ) y
        """,
        {"todo": todo},
    )
    cur.execute("SELECT count(*), coalesce(sum(n), 0) FROM bench_case")
    n_cases, n_cons = cur.fetchone()
    case_base = _next_ids(cur, "crm_case", n_cases)
    cur.execute(
        """
        CREATE TEMP TABLE bench_cons ON COMMIT DROP AS
        SELECT x.*, cal.next_biz AS biz_day FROM (
            SELECT c.rn + %(case_base)s AS case_id, k, c.org_id, c.company_id,
                c.is_confidential, c.assignee_id, c.created_by_id,
                least(c.opened_on + (k - 1) * (7 + floor(random() * 38)::int),
                      %(yesterday)s) AS raw_day,
                make_time(9 + floor(random() * 8)::int,
                          floor(random() * 60)::int, 0) AS t,
                random() AS r_ch, random() AS r_dur, random() AS r_auth,
                random() AS r_staff, random() AS r_txt, random() AS r_adv,
                random() AS r_next, random() AS r_att
            FROM bench_case c, generate_series(1, c.n) k
        ) x JOIN bench_cal cal ON cal.d = x.raw_day
        """,
        {"case_base": case_base, "yesterday": yesterday},
    )
    cons_base = _next_ids(cur, "crm_consultation", n_cons)
    cur.execute(
        """
        CREATE TEMP TABLE bench_cons2 ON COMMIT DROP AS
        SELECT %(cons_base)s + row_number() OVER (ORDER BY occurred_at, case_id, k)
                AS id, *
        FROM (
            SELECT b.*, (d + t) AT TIME ZONE 'Asia/Tokyo' AS occurred_at,
                d AS occurred_on,
                (%(channels)s::text[])[1 + floor(b.r_ch * %(n_ch)s)::int] AS channel
            FROM (SELECT *, CASE WHEN k = 1 OR biz_day > %(yesterday)s
                    THEN raw_day ELSE biz_day END AS d FROM bench_cons) b
        ) z
        """,
        {
            "cons_base": cons_base,
            "channels": lk["channel_slots"],
            "n_ch": len(lk["channel_slots"]),
            "yesterday": yesterday,
        },
    )
    cur.execute("ANALYZE bench_cons2")
    # Cases: closed some 0–30 days after their last consultation, when that was
    # more than 60 days ago (92 %); the others are open.
    cur.execute(
        """
        INSERT INTO crm_case (id, created_at, updated_at, company_id,
            organisation_id, title, status, is_confidential, assignee_id,
            created_by_id, opened_on, closed_on, closing_note,
            is_on_legal_hold, legal_hold_reason)
        SELECT c.rn + %(case_base)s,
            (c.opened_on + time '09:00') AT TIME ZONE 'Asia/Tokyo',
            (l.last_on + time '17:00') AT TIME ZONE 'Asia/Tokyo',
            c.company_id, c.org_id, co.name || ' の相談',
            CASE WHEN l.closed_on IS NULL THEN 'open' ELSE 'closed' END,
            c.is_confidential, c.assignee_id, c.created_by_id, c.opened_on,
            l.closed_on, '', false, ''
        FROM bench_case c
        JOIN crm_company co ON co.id = c.company_id
        JOIN (
            SELECT case_id, max(occurred_on) AS last_on,
                CASE WHEN max(occurred_on) < %(today)s - 60 AND random() < 0.92
                     THEN least(max(occurred_on) + floor(random() * 31)::int,
                                %(today)s)
                END AS closed_on
            FROM bench_cons2 GROUP BY case_id
        ) l ON l.case_id = c.rn + %(case_base)s
        ORDER BY c.rn
        """,
        {"case_base": case_base, "today": today},
    )
    cur.execute(
        """
        INSERT INTO crm_consultation (id, created_at, updated_at, case_id,
            company_id, organisation_id, author_id, occurred_at, occurred_on,
            fiscal_year, channel, duration_minutes, summary, advice, next_action,
            is_confidential, is_company_first)
        SELECT c.id, c.occurred_at + interval '2 hours',
            c.occurred_at + interval '2 hours', c.case_id, c.company_id, c.org_id,
            CASE WHEN c.assignee_id IS NOT NULL AND c.r_auth < 0.8 THEN c.assignee_id
                 ELSE st.user_id END,
            c.occurred_at, c.occurred_on,
            extract(year FROM c.occurred_on - interval '3 months')::int,
            c.channel,
            CASE c.channel
                WHEN 'phone' THEN (ARRAY[10, 15, 15, 20, 30])[1 + floor(c.r_dur * 5)::int]
                WHEN 'email' THEN (ARRAY[10, 15, 20, 30])[1 + floor(c.r_dur * 4)::int]
                WHEN 'online' THEN (ARRAY[30, 45, 60, 60, 90])[1 + floor(c.r_dur * 5)::int]
                ELSE (ARRAY[30, 45, 60, 60, 60, 90, 90, 120])[1 + floor(c.r_dur * 8)::int]
            END,
            (%(summaries)s::text[])[1 + floor(c.r_txt * %(n_sum)s)::int],
            CASE WHEN c.r_adv < 0.6 THEN
                (%(advice)s::text[])[1 + floor(c.r_adv / 0.6 * %(n_adv)s)::int]
                ELSE '' END,
            CASE WHEN c.r_next < 0.4 THEN
                (%(next)s::text[])[1 + floor(c.r_next / 0.4 * %(n_next)s)::int]
                ELSE '' END,
            c.is_confidential, false
        FROM bench_cons2 c
        JOIN bench_org o ON o.id = c.org_id
        JOIN bench_staff st ON st.org_id = c.org_id
            AND st.k = 1 + floor(c.r_staff * o.n_staff)::int
        ORDER BY c.id
        """,
        {
            "summaries": SUMMARIES,
            "n_sum": len(SUMMARIES),
            "advice": ADVICE,
            "n_adv": len(ADVICE),
            "next": NEXT_ACTIONS,
            "n_next": len(NEXT_ACTIONS),
        },
    )
    # 1–3 topics (65 % one, 27 % two, 8 % three; a repeated draw collapses).
    cur.execute(
        """
        INSERT INTO crm_consultationtopic (consultation_id, topic)
        SELECT c.id, (%(slots)s::text[])[1 + floor(random() * %(n)s)::int]
        FROM bench_cons2 c, generate_series(1,
            CASE WHEN c.r_att < 0.65 THEN 1 WHEN c.r_att < 0.92 THEN 2 ELSE 3 END)
        ON CONFLICT DO NOTHING
        """,
        {"slots": lk["topic_slots"], "n": len(lk["topic_slots"])},
    )
    # IP types on 55 % of consultations, 1–2 each.
    cur.execute(
        """
        INSERT INTO crm_consultationiptype (consultation_id, ip_type)
        SELECT c.id, (%(slots)s::text[])[1 + floor(random() * %(n)s)::int]
        FROM bench_cons2 c, generate_series(1,
            CASE WHEN c.r_dur < 0.45 THEN 0 WHEN c.r_dur < 0.85 THEN 1 ELSE 2 END)
        ON CONFLICT DO NOTHING
        """,
        {"slots": lk["ip_slots"], "n": len(lk["ip_slots"])},
    )
    # Joint attendance of the partner window on 3 % of consultations.
    cur.execute(
        """
        INSERT INTO crm_consultation_attendees (consultation_id, organisation_id)
        SELECT c.id, p.partner_id FROM bench_cons2 c
        JOIN bench_partner p ON p.org_id = c.org_id
        WHERE c.r_next > 0.97
        """
    )
    return n_cases, n_cons


def _follow_ups(cur, todo: int, today: date) -> None:
    """Write todo follow-ups on consultations that have none (most done)."""
    cur.execute(
        "SELECT count(*) FROM crm_consultation c WHERE NOT EXISTS "
        "(SELECT 1 FROM crm_followup f WHERE f.consultation_id = c.id)"
    )
    candidates = cur.fetchone()[0]
    if not candidates:
        return
    pct = min(100.0, 100.0 * todo / candidates * 1.03)
    cur.execute(
        """
        INSERT INTO crm_followup (created_at, updated_at, case_id, consultation_id,
            organisation_id, assignee_id, due_on, note, status, done_at,
            reminded_count, last_reminded_on, escalated_at)
        SELECT x.occurred_at, x.occurred_at, x.case_id, x.id, x.organisation_id,
            x.author_id, x.due_on, x.note, x.status,
            CASE WHEN x.status = 'done' THEN least(
                greatest(x.occurred_at + interval '1 hour',
                    ((x.due_on + floor(x.r_done * 9)::int - 5) + time '15:00')
                        AT TIME ZONE 'Asia/Tokyo'),
                now() - interval '1 hour') END,
            CASE WHEN x.status = 'open' AND x.due_on < %(today)s
                 THEN least(3, 1 + (%(today)s - x.due_on) / 7) ELSE 0 END,
            CASE WHEN x.status = 'open' AND x.due_on < %(today)s
                 THEN least(%(today)s - 1, x.due_on + 7 * least(2, (%(today)s - x.due_on) / 7))
            END,
            NULL
        FROM (
            SELECT s.*, CASE
                WHEN s.due_on < %(today)s - 14 THEN
                    CASE WHEN s.r_s < 0.97 THEN 'done' ELSE 'open' END
                WHEN s.due_on < %(today)s THEN
                    CASE WHEN s.r_s < 0.5 THEN 'done' ELSE 'open' END
                ELSE CASE WHEN s.r_s < 0.1 THEN 'done' ELSE 'open' END
            END AS status
            FROM (
                SELECT c.id, c.case_id, c.organisation_id, c.author_id, c.occurred_at,
                    c.occurred_on + 7 + floor(random() * 54)::int AS due_on,
                    left(coalesce(nullif(c.next_action, ''), c.summary), 200) AS note,
                    random() AS r_s, random() AS r_done
                FROM crm_consultation c TABLESAMPLE BERNOULLI (%(pct)s)
                WHERE NOT EXISTS (
                    SELECT 1 FROM crm_followup f WHERE f.consultation_id = c.id)
                -- A shuffle that is not random(): PostgreSQL matches ORDER BY
                -- random() with the random() columns of the select list, which
                -- then all get the same value.
                ORDER BY hashint8(c.id) LIMIT %(todo)s
            ) s
        ) x
        """,
        {"today": today, "pct": pct, "todo": todo},
    )


def _referrals(cur, todo: int, today: date) -> None:
    """Write todo referrals of cases not yet referred, statuses by age."""
    cur.execute(
        "SELECT count(*) FROM crm_case c WHERE NOT EXISTS "
        "(SELECT 1 FROM crm_referral r WHERE r.case_id = c.id)"
    )
    candidates = cur.fetchone()[0]
    if not candidates:
        return
    pct = min(100.0, 100.0 * todo / candidates * 1.03)
    yesterday = today - timedelta(days=1)
    cur.execute("SELECT cum FROM bench_cal WHERE d = %s", [today])
    today_cum = cur.fetchone()[0]
    cur.execute(
        """
        CREATE TEMP TABLE bench_ref ON COMMIT DROP AS
        SELECT s.*, rt.to_org, cal.cum + (NOT cal.biz)::int AS sent_cum,
            (cal.next_biz + s.t) AT TIME ZONE 'Asia/Tokyo' AS sent_at,
            cal.next_biz AS sent_on
        FROM (
            SELECT c.id AS case_id, c.organisation_id AS from_org, c.opened_on,
                least(c.opened_on + floor(random() * 15)::int, %(yesterday)s) AS raw,
                make_time(10 + floor(random() * 7)::int, floor(random() * 60)::int, 0)
                    AS t,
                random() AS r_route, random() AS r_status, random() AS r_ans,
                random() AS r_done, random() AS r_sender, random() AS r_answerer,
                random() AS r_topic
            FROM crm_case c TABLESAMPLE BERNOULLI (%(pct)s)
            WHERE NOT EXISTS (SELECT 1 FROM crm_referral r WHERE r.case_id = c.id)
            ORDER BY hashint8(c.id) LIMIT %(todo)s
        ) s
        JOIN bench_cal cal ON cal.d = s.raw
        JOIN bench_route rt ON rt.from_org = s.from_org
            AND s.r_route >= rt.lo AND s.r_route < rt.hi
        WHERE cal.next_biz <= %(yesterday)s
        """,
        {"yesterday": yesterday, "pct": pct, "todo": todo},
    )
    # Planned status: completed 62 %, accepted 12 %, declined 10 %, cancelled 4 %,
    # expired 4 %, left unanswered 8 %; then what the calendar allows: an
    # answer not yet due is still 'sent', a completion in the future 'accepted',
    # an unanswered referral older than 10 business days 'expired'.
    cur.execute(
        """
        INSERT INTO crm_referral (created_at, updated_at, case_id,
            from_organisation_id, to_organisation_id, sent_by_id, reason, status,
            consent_id, sent_at, respond_by, answered_at, answered_by_id,
            answer_business_days, answer_note, completed_at, outcome_note,
            closed_at, closed_by_id, reminded_at, escalated_at)
        SELECT r.sent_at, r.sent_at, r.case_id, r.from_org, r.to_org, sender.user_id,
            (%(reasons)s::text[])[1 + floor(r.r_topic * %(n_reasons)s)::int],
            r.status, NULL, r.sent_at, respond.d,
            CASE WHEN r.status IN ('accepted', 'declined', 'completed')
                 THEN r.answered_at END,
            CASE WHEN r.status IN ('accepted', 'declined', 'completed')
                 THEN answerer.user_id END,
            CASE WHEN r.status IN ('accepted', 'declined', 'completed')
                 THEN r.ans_days END,
            CASE WHEN r.status = 'declined' THEN '対応できる専門家が不在のため。'
                 ELSE '' END,
            CASE WHEN r.status = 'completed' THEN r.completed_at END,
            CASE WHEN r.status = 'completed' THEN '出願に向けた支援を完了しました。'
                 ELSE '' END,
            CASE WHEN r.status = 'cancelled' THEN r.sent_at + interval '2 hours'
                 WHEN r.status = 'expired'
                 THEN (expire.d + time '09:30') AT TIME ZONE 'Asia/Tokyo' END,
            CASE WHEN r.status = 'cancelled' THEN sender.user_id END,
            CASE WHEN r.status IN ('sent', 'expired') AND r.age > 2
                 THEN (remind.d + time '09:00') AT TIME ZONE 'Asia/Tokyo' END,
            NULL
        FROM (
            SELECT p.*, CASE
                WHEN p.planned IN ('accepted', 'declined', 'completed')
                     AND p.ans_day >= %(today)s THEN 'sent'
                WHEN p.planned = 'completed' AND p.completed_at >= now() THEN 'accepted'
                WHEN p.planned IN ('sent', 'expired') AND p.age > 10 THEN 'expired'
                WHEN p.planned IN ('sent', 'expired') THEN 'sent'
                ELSE p.planned END AS status
            FROM (
                SELECT b.*, ans.d AS ans_day,
                    %(today_cum)s - b.sent_cum AS age,
                    greatest(b.sent_at + interval '40 minutes',
                        (ans.d + make_time(9 + floor(b.r_done * 8)::int, 15, 0))
                            AT TIME ZONE 'Asia/Tokyo') AS answered_at,
                    (ans.d + 14 + floor(b.r_done * 107)::int + time '16:00')
                        AT TIME ZONE 'Asia/Tokyo' AS completed_at,
                    CASE WHEN b.r_status < 0.62 THEN 'completed'
                         WHEN b.r_status < 0.74 THEN 'accepted'
                         WHEN b.r_status < 0.84 THEN 'declined'
                         WHEN b.r_status < 0.88 THEN 'cancelled'
                         WHEN b.r_status < 0.92 THEN 'expired'
                         ELSE 'sent' END AS planned
                FROM (
                    SELECT r0.*, CASE WHEN r0.r_ans < 0.20 THEN 0
                        WHEN r0.r_ans < 0.55 THEN 1 WHEN r0.r_ans < 0.80 THEN 2
                        WHEN r0.r_ans < 0.92 THEN 3
                        ELSE 4 + floor((r0.r_ans - 0.92) / 0.08 * 3)::int END
                        AS ans_days
                    FROM bench_ref r0
                ) b
                JOIN bench_biz ans ON ans.k = b.sent_cum + b.ans_days
            ) p
        ) r
        JOIN bench_biz respond ON respond.k = r.sent_cum + 3
        JOIN bench_biz expire ON expire.k = r.sent_cum + 10
        JOIN bench_biz remind ON remind.k = r.sent_cum + 2
        JOIN bench_org fo ON fo.id = r.from_org
        JOIN bench_staff sender ON sender.org_id = r.from_org
            AND sender.k = 1 + floor(r.r_sender * fo.n_staff)::int
        JOIN bench_org tor ON tor.id = r.to_org
        JOIN bench_staff answerer ON answerer.org_id = r.to_org
            AND answerer.k = 1 + floor(r.r_answerer * tor.n_staff)::int
        """,
        {
            "today": today,
            "today_cum": today_cum,
            "reasons": REASONS,
            "n_reasons": len(REASONS),
        },
    )
    cur.execute(
        """
        INSERT INTO crm_referraltopic (referral_id, topic)
        SELECT r.id, (%(slots)s::text[])[1 + floor(random() * %(n)s)::int]
        FROM crm_referral r
        WHERE NOT EXISTS (SELECT 1 FROM crm_referraltopic t WHERE t.referral_id = r.id)
        """,
        {"slots": _slots(TOPIC_WEIGHTS), "n": len(_slots(TOPIC_WEIGHTS))},
    )


def _enrolments(cur, per_seat: float, today: date) -> int:
    """Fill each enrolment program's rounds (past fiscal years too)."""
    from support_network.calendar import fiscal_year

    current = fiscal_year(today)
    first_fy = current - FISCAL_YEARS + 1
    # A round per fiscal year, with the capacity of the seeded one.
    cur.execute(
        """
        INSERT INTO programs_programround (created_at, updated_at, program_id,
            fiscal_year, capacity, opens_on, closes_on)
        SELECT now(), now(), p.id, fy, coalesce(
            (SELECT max(capacity) FROM programs_programround r
             WHERE r.program_id = p.id), 20), NULL, NULL
        FROM programs_program p, generate_series(%s, %s) fy
        WHERE p.kind = 'enrolment'
        ON CONFLICT (program_id, fiscal_year) DO NOTHING
        """,
        [first_fy, current],
    )
    cur.execute(
        """
        CREATE TEMP TABLE bench_fy_cases ON COMMIT DROP AS
        SELECT extract(year FROM opened_on - interval '3 months')::int AS fy,
            min(id) AS lo, max(id) AS hi FROM crm_case GROUP BY 1
        """
    )
    cur.execute(
        """
        INSERT INTO programs_enrolment (created_at, updated_at, program_id, round_id,
            company_id, case_id, organisation_id, referral_id, applied_by_id, scheme,
            status, joint_research_yen_per_year, started_on, ends_on, period,
            days_used)
        SELECT (make_date(x.fiscal_year, 5, 1) + time '10:00') AT TIME ZONE 'Asia/Tokyo',
            now(), x.program_id, x.round_id, c.company_id, c.id, c.organisation_id,
            NULL, c.created_by_id, '', x.status, NULL,
            CASE WHEN x.status IN ('accepted', 'active', 'completed')
                 THEN make_date(x.fiscal_year, 8, 1) END,
            CASE WHEN x.status IN ('accepted', 'active', 'completed')
                 THEN make_date(x.fiscal_year + 1, 7, 31) END,
            1, CASE WHEN x.status IN ('active', 'completed')
                    THEN floor(x.r * 20)::numeric ELSE 0 END
        FROM (
            SELECT r.id AS round_id, r.program_id, r.fiscal_year, random() AS r,
                fc.lo + floor(random() * (fc.hi - fc.lo + 1))::bigint AS case_id,
                CASE
                    WHEN r.fiscal_year < %(current)s - 1 THEN
                        (ARRAY['completed','completed','completed','completed',
                               'rejected','rejected','rejected','rejected','rejected',
                               'withdrawn'])[1 + floor(random() * 10)::int]
                    WHEN r.fiscal_year = %(current)s - 1 THEN
                        (ARRAY['active','active','active','completed','rejected',
                               'rejected','rejected','rejected','withdrawn',
                               'completed'])[1 + floor(random() * 10)::int]
                    ELSE (ARRAY['applied','applied','applied','screening',
                                'screening','accepted','active','active',
                                'rejected','rejected'])[1 + floor(random() * 10)::int]
                END AS status
            FROM programs_programround r
            JOIN programs_program p ON p.id = r.program_id AND p.kind = 'enrolment'
            JOIN bench_fy_cases fc ON fc.fy = r.fiscal_year
            CROSS JOIN LATERAL generate_series(1, greatest(0,
                round(r.capacity * %(per_seat)s)::int - (
                    SELECT count(*) FROM programs_enrolment e
                    WHERE e.round_id = r.id)::int)) g
            WHERE r.fiscal_year <= %(current)s
        ) x
        JOIN crm_case c ON c.id = x.case_id
        """,
        {"current": current, "per_seat": per_seat},
    )
    return cur.rowcount


def _mark_company_first(cur) -> int:
    """Mark each company's first consultation (earliest occurred_at, then id)."""
    cur.execute(
        """
        UPDATE crm_consultation c SET is_company_first = (c.id = f.first_id)
        FROM (SELECT DISTINCT ON (company_id) company_id, id AS first_id
              FROM crm_consultation ORDER BY company_id, occurred_at, id) f
        WHERE f.company_id = c.company_id
          AND c.is_company_first IS DISTINCT FROM (c.id = f.first_id)
        """
    )
    return cur.rowcount


def generate_activity(
    *, consultations: int, referrals: int, follow_ups: int, per_seat: float
) -> None:
    """Top up cases, consultations, referrals, follow-ups and enrolments."""
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.statistics.facts import consultation_facts_refresh
    from support_network.calendar import fiscal_year

    today = timezone.localdate()
    t_all = time.perf_counter()
    with connection.cursor() as cur:
        _restore_indexes(cur)  # a previous run that stopped half-way
        have = {t: _count(cur, t) for t in ACTIVITY_TABLES}
        cur.execute("SELECT count(*) FROM programs_enrolment")
        have_enrol = cur.fetchone()[0]
        todo_cons = max(0, consultations - have["crm_consultation"])
        todo_ref = max(0, referrals - have["crm_referral"])
        todo_fu = max(0, follow_ups - have["crm_followup"])
        print(
            f"have {have['crm_consultation']:,} consultations, "
            f"{have['crm_referral']:,} referrals, {have['crm_followup']:,} follow-ups, "
            f"{have_enrol:,} enrolments; adding {todo_cons:,} / {todo_ref:,} / "
            f"{todo_fu:,}",
            flush=True,
        )
        if not (todo_cons or todo_ref or todo_fu) and have_enrol:
            print("activity: nothing to do")
            return
        # Bulk load: no foreign-key triggers (the generator keeps the references
        # consistent itself), no synchronous commit, and no secondary indexes
        # when the load at least doubles the tables.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET work_mem = '64MB'")
        cur.execute("SELECT setseed(0.42)")
        bulk = todo_cons >= have["crm_consultation"] and todo_cons > 200_000
        with _timed("lookups (calendar, staff users, companies per prefecture)"):
            lk = _setup_lookups(
                cur,
                today=today,
                first_fy=fiscal_year(today) - FISCAL_YEARS + 1,
            )
        if bulk:
            _drop_indexes(cur, ACTIVITY_TABLES)
        if todo_cons:
            t0 = time.perf_counter()
            done_cases = done = 0
            for fy, n in _fy_targets(todo_cons, today):
                if n <= 0:
                    continue
                t1 = time.perf_counter()
                with transaction.atomic():
                    cases, cons = _cases_and_consultations(cur, fy, n, lk, today)
                done_cases += cases
                done += cons
                el = time.perf_counter() - t0
                print(
                    f"  FY{fy}: +{cases:,} cases, +{cons:,} consultations with "
                    f"topics, IP types, attendees in {time.perf_counter() - t1:.1f}s "
                    f"({done / el:,.0f} consultations/s so far)",
                    flush=True,
                )
            print(
                f"  cases + consultations: +{done_cases:,} / +{done:,} in "
                f"{time.perf_counter() - t0:.1f}s"
            )
        if todo_fu:
            with _timed(f"follow-ups (+{todo_fu:,})"):
                for _try in range(3):  # a sample may fall a little short
                    left = follow_ups - _count(cur, "crm_followup")
                    if left <= 0:
                        break
                    with transaction.atomic():
                        _follow_ups(cur, left, today)
        if todo_ref:
            with _timed(f"referrals (+{todo_ref:,}) and their topics"):
                for _try in range(3):
                    left = referrals - _count(cur, "crm_referral")
                    if left <= 0:
                        break
                    with transaction.atomic():
                        _referrals(cur, left, today)
        with _timed("enrolments in program rounds"), transaction.atomic():
            added = _enrolments(cur, per_seat, today)
        print(f"  enrolments: +{added:,}")
        if todo_cons:
            with _timed("first consultation of each company marked"):
                changed = _mark_company_first(cur)
            print(f"  is_company_first: {changed:,} rows changed")
            # The statistics facts, as the app writes them (crm/statistics/facts.py).
            with _timed("statistics facts rebuilt"):
                written = consultation_facts_refresh()
            print(f"  statistics facts: {written:,} rows")
        if bulk:
            with _timed("secondary indexes rebuilt"):
                _restore_indexes(cur)
        cur.execute("SET session_replication_role = origin")
        for table in (*ACTIVITY_TABLES, "programs_enrolment"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        with _timed("VACUUM (ANALYZE) of the activity tables"):
            for table in (*ACTIVITY_TABLES, "programs_enrolment", "auth_user"):
                cur.execute(f"VACUUM (ANALYZE) {table}")
        counts = {t: _count(cur, t) for t in (*ACTIVITY_TABLES, "programs_enrolment")}
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    print(f"activity: {time.perf_counter() - t_all:.1f}s in all")


def ensure_database(url: str) -> None:
    import psycopg

    u = urlparse(url)
    dbname = u.path.lstrip("/")
    admin = u._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
        ).fetchone()
        if exists:
            return
        print(f"creating database {dbname} (UTF8, LC_CTYPE C.UTF-8)")
        conn.execute(
            f"CREATE DATABASE \"{dbname}\" TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )


def generate_companies(n: int, *, seed: int, batch: int) -> None:
    """Top crm_company up to n rows with COPY."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*), coalesce(max(id), 0) FROM crm_company")
        have, _max_id = cur.fetchone()
    if have >= n:
        print(f"crm_company already has {have:,} rows (>= {n:,}); nothing to do")
        return
    todo = n - have
    print(f"crm_company has {have:,} rows; adding {todo:,} with COPY")
    now = datetime.now(UTC)
    pg = connection.connection  # psycopg 3 connection
    t0 = time.perf_counter()
    done = 0
    t_gen = 0.0
    cols = ", ".join(COLUMNS)
    while done < todo:
        count = min(batch, todo - done)
        tg = time.perf_counter()
        rows = list(make_rows(have + done, count, seed, now))
        t_gen += time.perf_counter() - tg
        with (
            pg.cursor() as cur,
            cur.copy(f"COPY crm_company ({cols}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        pg.commit()
        done += count
        el = time.perf_counter() - t0
        print(
            f"  {have + done:>10,} rows  {done / el:>9,.0f} rows/s  "
            f"(python row generation {t_gen:.1f}s of {el:.1f}s)",
            flush=True,
        )
    el = time.perf_counter() - t0
    print(
        f"inserted {todo:,} rows in {el:.1f}s = {todo / el:,.0f} rows/s "
        f"(generation {t_gen:.1f}s, COPY+index maintenance {el - t_gen:.1f}s)"
    )
    t1 = time.perf_counter()
    with connection.cursor() as cur:
        # VACUUM too: it flushes the GIN pending lists (fastupdate) that COPY filled,
        # as autovacuum would on a live database; otherwise searches scan them.
        cur.execute("VACUUM (ANALYZE) crm_company")
    print(f"VACUUM (ANALYZE) crm_company: {time.perf_counter() - t1:.1f}s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--companies", type=int, default=None)
    parser.add_argument(
        "--consultations",
        type=int,
        default=None,
        help="total consultations (referrals and follow-ups scale with it "
        "unless given)",
    )
    parser.add_argument("--referrals", type=int, default=None)
    parser.add_argument("--follow-ups", type=int, default=None)
    parser.add_argument(
        "--companies-only", action="store_true", help="skip the activity tables"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args(argv)
    n = args.companies or SCALES[args.scale]
    cons, refs, fus, per_seat = ACTIVITY_SCALES[args.scale]
    if args.consultations is not None:
        ratio = args.consultations / cons
        cons = args.consultations
        refs, fus = round(refs * ratio), round(fus * ratio)
    refs = args.referrals if args.referrals is not None else refs
    fus = args.follow_ups if args.follow_ups is not None else fus

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (…/chizai_bench)")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_network", verbosity=1)
    print(f"migrate + seed_network: {time.perf_counter() - t0:.1f}s")
    generate_companies(n, seed=args.seed, batch=args.batch)
    if not args.companies_only:
        generate_activity(
            consultations=cons, referrals=refs, follow_ups=fus, per_seat=per_seat
        )


if __name__ == "__main__":
    main()
