"""Generate a national-scale company master for the search benchmark.

    DJANGO_SETTINGS_MODULE=config.settings \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench \
    python -m bench.generate --scale national            # 1,000,000 companies
    python -m bench.generate --scale small               # 20,000 companies

Creates the database (UTF8, LC_CTYPE C.UTF-8: pg_trgm needs it for Japanese) when
missing, runs ``migrate`` and ``seed_network``, then fills ``crm_company`` with
PostgreSQL COPY. Derived columns are computed with the app's own crm.rules functions.
Idempotent: does nothing when the table already holds >= N rows.
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
    from crm import rules

    rng = random.Random(seed * 1_000_003 + start)
    prefs = [f"{i:02d}" for i in range(1, 48)]
    for i in range(start, start + count):
        name, kana, kind = make_name(rng, i)
        corporate_number = None
        if kind != "sole_proprietor" and rng.random() < 0.74:
            base = f"{100_000_000_000 + i:012d}"  # unique: counter
            corporate_number = f"{rules.corporate_number_check_digit(base)}{base}"
        industry = rng.choice(INDUSTRIES)
        capital = (
            None
            if kind == "sole_proprietor" or rng.random() < 0.15
            else int(rng.lognormvariate(16.2, 1.6))
        )
        employees = None if rng.random() < 0.1 else int(rng.lognormvariate(2.0, 1.5))
        size = rules.size_class(
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
            rules.normalise_name(name),
            rules.name_key(name),
            rules.kana_key(kana),
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--companies", type=int, default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args(argv)
    n = args.companies or SCALES[args.scale]

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (…/chizai_bench)")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("seed_network", verbosity=1)

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
        count = min(args.batch, todo - done)
        tg = time.perf_counter()
        rows = list(make_rows(have + done, count, args.seed, now))
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


if __name__ == "__main__":
    main()
