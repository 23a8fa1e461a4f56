"""manage.py seed_network: idempotent, and every code of API.md exists."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from programs.models import Program, ProgramRound
from seeds.services import network_seed
from support_network.models import ExpertiseTag, Organisation, Prefecture, Region

REGIONS = [
    "hokkaido",
    "tohoku",
    "kanto",
    "chubu",
    "kinki",
    "chugoku",
    "shikoku",
    "kyushu",
    "okinawa",
]
JPAA_BRANCHES = [
    "hokkaido",
    "tohoku",
    "kanto",
    "tokai",
    "hokuriku",
    "kansai",
    "chugoku",
    "shikoku",
    "kyushu",
]
EXPERT_WINDOWS = ["overseas", "trade-secret", "startup", "academia", "kansai"]
PROGRAM_CODES = {
    "ipas",
    "vc_ipas",
    "iaca",
    "inat",
    "ip_landscape",
    "ip_finance",
    "overseas_filing",
    "counterfeit",
    "squatted_trademark",
    "defensive",
    "litigation_insurance",
    "model_region",
    "i_open",
}


def api_md_codes() -> set[str]:
    """Return every organisation code API.md promises."""
    codes = {"jpo", "sme-agency", "ip-gmen", "inpit", "jcci", "jpaa"}
    codes |= {f"bureau-{r}" for r in REGIONS}
    codes |= {f"jpaa-{b}" for b in JPAA_BRANCHES}
    codes |= {f"inpit-expert-{w}" for w in EXPERT_WINDOWS}
    for n in range(1, 48):
        codes |= {f"inpit-window-{n:02d}", f"yorozu-{n:02d}", f"cci-federation-{n:02d}"}
    return codes


def snapshot():
    return {
        "regions": list(Region.objects.order_by("code").values()),
        "prefectures": list(Prefecture.objects.order_by("code").values()),
        "organisations": list(
            Organisation.objects.order_by("code").values(
                "id",
                "code",
                "name",
                "kind",
                "prefecture",
                "region",
                "parent",
                "capacity",
            )
        ),
        "expertise": list(ExpertiseTag.objects.order_by("slug").values()),
        "programs": list(
            Program.objects.order_by("code").values("id", "code", "name", "rules")
        ),
        "rounds": list(
            ProgramRound.objects.order_by("id").values(
                "program", "fiscal_year", "capacity"
            )
        ),
    }


def test_seeding_twice_gives_the_same_rows(network):
    before = snapshot()

    call_command("seed_network", stdout=io.StringIO())

    assert snapshot() == before


def test_every_organisation_code_of_api_md_exists_with_a_japanese_name(network):
    codes = set(Organisation.objects.values_list("code", flat=True))

    assert api_md_codes() <= codes
    assert Organisation.objects.get(code="jpaa-kansai").name == "日本弁理士会 関西会"
    assert (
        Organisation.objects.get(code="inpit-window-13").name
        == "東京都知財総合支援窓口"
    )
    assert Organisation.objects.get(code="yorozu-01").name == "北海道よろず支援拠点"
    assert Organisation.objects.get(code="inpit-window-47").prefecture_id == "47"
    assert Organisation.objects.get(code="bureau-okinawa").region_id == "okinawa"


def test_regions_prefectures_and_programs_are_complete(network):
    assert sorted(Region.objects.values_list("code", flat=True)) == sorted(REGIONS)
    assert Prefecture.objects.count() == 47
    assert Prefecture.objects.filter(jpaa_branch__isnull=True).count() == 0
    assert set(Program.objects.values_list("code", flat=True)) == PROGRAM_CODES


@pytest.mark.parametrize(
    ("code", "region", "branch"),
    [
        ("13", "kanto", "jpaa-kanto"),
        (
            "15",
            "kanto",
            "jpaa-hokuriku",
        ),  # 新潟: unverified 地域会, reference/prefectures.md
        ("20", "kanto", "jpaa-tokai"),  # 長野
        ("22", "kanto", "jpaa-tokai"),  # 静岡
        ("18", "kinki", "jpaa-hokuriku"),  # 福井
        ("47", "okinawa", "jpaa-kyushu"),
    ],
)
def test_prefecture_bureau_and_jpaa_branch_do_not_nest(network, code, region, branch):
    prefecture = Prefecture.objects.get(code=code)

    assert (prefecture.region_id, prefecture.jpaa_branch.code) == (region, branch)


def test_rounds_open_for_the_current_and_next_fiscal_year_and_keep_admin_edits(network):
    network_seed(today=dt.date(2027, 4, 1))  # FY2027 starts
    ipas = Program.objects.get(code="ipas")
    ProgramRound.objects.filter(program=ipas, fiscal_year=2027).update(capacity=25)

    network_seed(today=dt.date(2027, 4, 2))

    years = list(
        ipas.rounds.order_by("fiscal_year").values_list("fiscal_year", "capacity")
    )
    assert (2027, 25) in years
    assert (2028, 20) in years
