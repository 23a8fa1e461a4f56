"""GET companies/?q= : spellings, relevance order, short fragments, 法人番号, privacy.

test_company_api.py covers the basic spellings of one kanji/hiragana name and
the plain and "T" 法人番号; this file covers alphanumeric and legal-form
variants with the ranking, 1–2-character fragments on the bigram index,
further 法人番号 spellings, ranked paging, and private fields in results.
"""

import pytest
from django.db import connection

from crm.models import Company
from crm.selectors import search
from crm.selectors.companies import company_search
from crm.serializers.companies import PRIVATE_COMPANY_FIELDS
from tests.crm.factories import CompanyFactory, ContactFactory

TOYOTA = "1180301018771"  # reference/houjin_bangou.md §3


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def company(name: str, kana: str, **fields):
    return CompanyFactory(name=name, name_kana=kana, **fields)


# --- spellings ---------------------------------------------------------------------

SPELLINGS = [
    "東和ABC技研",  # as registered, without the legal form
    "東和ＡＢＣ技研",  # full-width alphanumerics
    "東和abc技研",  # lower case
    "トウワエービーシーギケン",  # katakana reading
    "とうわえーびーしーぎけん",  # hiragana reading
    "ﾄｳﾜｴｰﾋﾞｰｼｰｷﾞｹﾝ",  # half-width katakana
    "株式会社東和ABC技研",
    "東和ABC技研株式会社",
    "(株)東和ABC技研",
    "東和ABC技研(株)",
    "（株）東和ＡＢＣ技研",
    "東和ＡＢＣ技研（株）",
    "㈱東和ABC技研",
    "東和ABC技研㈱",
    "カブシキガイシャトウワエービーシーギケン",
    "トウワエービーシーギケンカブシキガイシャ",
    "ｶﾌﾞｼｷｶﾞｲｼｬﾄｳﾜｴｰﾋﾞｰｼｰｷﾞｹﾝ",
    "かぶしきがいしゃ　とうわ　えーびーしー　ぎけん",
    "東和 ABC 技研 株式会社",
    "　東和　ＡＢＣ　技研　",
]


@pytest.mark.parametrize("query", SPELLINGS)
def test_every_spelling_ranks_the_company_before_longer_names(api, staff_a, query):
    longer = company("新東和ABC技研合同会社", "シントウワエービーシーギケン")
    starting = company("東和ABC技研工業株式会社", "トウワエービーシーギケンコウギョウ")
    target = company("東和ABC技研株式会社", "トウワエービーシーギケン")
    company("東和電機株式会社", "トウワデンキ")

    found = ids(api(staff_a).get("/api/v1/companies/", {"q": query}))

    assert found == [target.pk, starting.pk, longer.pk]


# --- relevance order ---------------------------------------------------------------


@pytest.fixture
def sakura(db):
    """Companies matching サクラ in each way, created oldest first."""
    return {
        "inside_long": company("大阪サクラ精工株式会社", "オオサカサクラセイコウ"),
        "exact_kana": company("有限会社さくら", "サクラ"),
        "start_long": company("サクラ電機製作所株式会社", "サクラデンキセイサクショ"),
        "inside_short": company("東サクラ株式会社", "ヒガシサクラ"),
        "exact_name": company("サクラ株式会社", "サクラ"),
        "start_short": company("株式会社サクラ精工", "サクラセイコウ"),
        "reading_prefix": company("株式会社桜井", "サクライ"),
    }


def test_exact_then_prefix_then_contains_shorter_then_newer(api, staff_a, sakura):
    found = ids(api(staff_a).get("/api/v1/companies/", {"q": "さくら"}))

    # サクライ starts with サクラ too: its reading is a prefix match, and its
    # name key 桜井 (2 characters) is the shortest of that rank.
    assert found == [
        sakura["exact_name"].pk,  # same length as さくら: the newer first
        sakura["exact_kana"].pk,
        sakura["reading_prefix"].pk,
        sakura["start_short"].pk,
        sakura["start_long"].pk,
        sakura["inside_short"].pk,
        sakura["inside_long"].pk,
    ]


@pytest.mark.parametrize("page_size", [1, 2])
@pytest.mark.parametrize("id_slice", [search.ID_SLICE, 1])
def test_ranked_pages_walk_forward_and_back_without_gaps(
    api, staff_a, sakura, monkeypatch, id_slice, page_size
):
    # A window of 1 also exercises the "older" reads of prefix and other
    # matches; a slice of 1 id, their index-and-sort branch.
    monkeypatch.setattr(search, "RANK_WINDOW", 1)
    monkeypatch.setattr(search, "ID_SLICE", id_slice)
    monkeypatch.setattr(search, "_top_seen", {})  # no newest id from earlier tests
    client = api(staff_a)
    expected = ids(client.get("/api/v1/companies/", {"q": "サクラ", "page_size": 200}))

    url = f"/api/v1/companies/?q=%E3%82%B5%E3%82%AF%E3%83%A9&page_size={page_size}"
    forward = []
    while url:
        last = client.get(url).json()
        forward.append([row["id"] for row in last["results"]])
        url = last["next"]
    backward, url = [], last["previous"]
    while url:
        body = client.get(url).json()
        backward.insert(0, [row["id"] for row in body["results"]])
        url = body["previous"]

    # Window of 1: the newest prefix match, then the older ones newest first;
    # the same for the other matches.
    assert expected == [
        sakura[name].pk
        for name in (
            "exact_name",
            "exact_kana",
            "reading_prefix",
            "start_short",
            "start_long",
            "inside_short",
            "inside_long",
        )
    ]
    assert [pk for page in forward for pk in page] == expected
    assert len(forward) == -(-len(expected) // page_size)
    assert backward == forward[:-1]


def test_rank_window_keeps_every_match_and_orders_the_rest_newest_first(
    api, staff_a, monkeypatch
):
    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    oldest = company("大阪ミナト精工", "オオサカミナトセイコウ")
    old_short = company("東ミナト", "ヒガシミナト")
    newer_long = company("北海道ミナト製作所", "ホッカイドウミナトセイサクショ")
    newest_short = company("西ミナト", "ニシミナト")

    found = ids(api(staff_a).get("/api/v1/companies/", {"q": "ミナト"}))

    # The two newest "other" matches are ranked by length; older ones follow
    # newest first, however short.
    assert found == [newest_short.pk, newer_long.pk, old_short.pk, oldest.pk]


def test_a_bad_cursor_is_a_404_not_a_500(api, staff_a, sakura):
    response = api(staff_a).get(
        "/api/v1/companies/", {"q": "サクラ", "cursor": "cD05LjkuOS45"}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_without_q_the_list_stays_newest_first(api, staff_a, sakura):
    found = ids(api(staff_a).get("/api/v1/companies/"))

    assert found == sorted(found, reverse=True)
    assert len(found) == len(sakura)


# --- 1- and 2-character fragments --------------------------------------------------


@pytest.mark.parametrize(
    "query", ["知財", "財", "財ラ", "ボ", "らぼ", "ﾗﾎﾞ", "ザイ", "ﾁｻﾞｲ", "5"]
)
def test_one_and_two_character_fragments_find_the_company(api, staff_a, query):
    target = company("知財ラボ5株式会社", "チザイラボ5")
    company("特許事務所株式会社", "トッキョジムショ")

    assert ids(api(staff_a).get("/api/v1/companies/", {"q": query})) == [target.pk]


@pytest.mark.parametrize("query", ["会社", "株"])
def test_short_fragments_of_the_legal_form_match_the_written_name(api, staff_a, query):
    # name_norm keeps the legal form: the same rule as for longer fragments.
    target = company("株式会社特許堂", "トッキョドウ")
    company("特許堂", "トッキョドウ", kind="sole_proprietor")

    assert ids(api(staff_a).get("/api/v1/companies/", {"q": query})) == [target.pk]


def plan_of(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        # A handful of rows is cheaper to scan; forbid plain scans to see which
        # index the search condition itself can use, as at 1M rows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("知財", "crm_company_bigram_idx"),
        ("財", "crm_company_bigram_idx"),
        ("知財ラボ", "_trgm"),
    ],
)
def test_fragment_searches_can_use_the_ngram_indexes(db, query, index):
    company("知財ラボ株式会社", "チザイラボ")
    qs = company_search(Company.objects.all(), query)

    assert index in plan_of(qs)


# --- 法人番号 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "1-1803-0101-8771",
        "１１８０３０１０１８７７１",
        "Ｔ１１８０３０１０１８７７１",
        "t1180301018771",
        " 1180 3010 18771 ",
        "T1-1803-0101-8771",
    ],
)
def test_corporate_number_spellings_find_the_company(api, staff_a, query):
    target = company(
        "トヨタ自動車株式会社", "トヨタジドウシャ", corporate_number=TOYOTA
    )
    company("株式会社1180301018771", "")  # digits in a name are not a 法人番号 match

    assert ids(api(staff_a).get("/api/v1/companies/", {"q": query})) == [target.pk]


def test_twelve_digits_are_a_name_fragment(api, staff_a):
    company("トヨタ自動車株式会社", "トヨタジドウシャ", corporate_number=TOYOTA)

    assert ids(api(staff_a).get("/api/v1/companies/", {"q": TOYOTA[1:]})) == []


# --- private fields ----------------------------------------------------------------


@pytest.mark.parametrize("query", ["みらい精工", "精工", TOYOTA])
def test_search_results_hide_another_organisations_private_fields(
    api, network, staff_a, staff_b, query
):
    target = company(
        "株式会社みらい精工",
        "ミライセイコウ",
        corporate_number=TOYOTA,
        capital_yen=30_000_000,
        employees=45,
        registered_by=network["inpit-window-13"],
    )
    ContactFactory(company=target, name="山田 花子")

    theirs = api(staff_b).get("/api/v1/companies/", {"q": query}).json()["results"]
    ours = api(staff_a).get("/api/v1/companies/", {"q": query}).json()["results"]

    assert [row["id"] for row in theirs] == [target.pk]
    assert theirs[0]["has_private_access"] is False
    assert not set(PRIVATE_COMPANY_FIELDS) & set(theirs[0])
    assert "山田" not in str(theirs[0])
    assert ours[0]["capital_yen"] == 30_000_000
    assert ours[0]["employees"] == 45
