"""GET prefectures/, organisations/, programs/ (API.md "Resources")."""

from django.utils import timezone

from support_network.calendar import fiscal_year


def all_rows(client, path, **params):
    rows, url = [], path
    response = client.get(url, {"page_size": 200, **params})
    while True:
        body = response.json()
        rows += body["results"]
        if not body["next"]:
            return rows
        response = client.get(body["next"])


def test_prefectures_carry_region_and_jpaa_branch(api, staff_a):
    rows = all_rows(api(staff_a), "/api/v1/prefectures/")

    assert len(rows) == 47
    niigata = next(r for r in rows if r["code"] == "15")
    assert (niigata["name"], niigata["region"], niigata["jpaa_branch"]) == (
        "新潟県",
        "kanto",
        "jpaa-hokuriku",
    )
    okinawa = next(r for r in rows if r["code"] == "47")
    assert (okinawa["region"], okinawa["jpaa_branch"]) == ("okinawa", "jpaa-kyushu")
    fukui = next(r for r in rows if r["code"] == "18")
    assert fukui["region"] == "kinki"


def test_organisations_filter_by_kind_prefecture_region_and_text(api, staff_a):
    client = api(staff_a)

    windows = all_rows(client, "/api/v1/organisations/", kind="inpit_window")
    osaka = all_rows(client, "/api/v1/organisations/", prefecture="27")
    kinki_bureaus = all_rows(
        client, "/api/v1/organisations/", kind="meti_bureau", region="kinki"
    )
    text = all_rows(client, "/api/v1/organisations/", q="関西会")

    assert len(windows) == 47
    assert {"inpit-window-27", "yorozu-27", "cci-federation-27"} <= {
        r["code"] for r in osaka
    }
    assert [r["code"] for r in kinki_bureaus] == ["bureau-kinki"]
    assert [r["code"] for r in text] == ["jpaa-kansai"]
    first = windows[0]
    assert set(first) >= {"code", "name", "kind", "prefecture", "region"}


def test_organisation_kind_filter_rejects_unknown_kinds(api, staff_a):
    response = api(staff_a).get("/api/v1/organisations/", {"kind": "bank"})

    assert response.status_code == 400
    assert "kind" in response.json()


def test_programs_list_operators_rules_and_open_rounds(api, staff_a):
    rows = all_rows(api(staff_a), "/api/v1/programs/")
    by_code = {r["code"]: r for r in rows}
    current = fiscal_year(timezone.now())

    assert len(by_code) == 13
    assert by_code["ipas"]["operator"] == "inpit"
    assert by_code["ipas"]["rules"]["duration_months"] == 5
    assert (
        by_code["iaca"]["rules"]["schemes"]["3"]["min_joint_research_yen_per_year"]
        == 10_000_000
    )
    assert by_code["inat"]["rules"]["day_quota"]["days"] == 90
    assert (
        by_code["overseas_filing"]["rules"]["subsidy"]["cap_per_case_yen"]["patent"]
        == 1_500_000
    )
    assert [r["fiscal_year"] for r in by_code["ipas"]["rounds"]] == [
        current,
        current + 1,
    ]
    assert by_code["ipas"]["rounds"][0]["capacity"] == 20
