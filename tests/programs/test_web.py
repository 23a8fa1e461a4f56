"""The web UI of programs: program pages, enrolment pages, applying from a case,
referring a case into a program, and the forms' Japanese errors."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Consent, ProvisionRecord, Referral
from programs.models import Enrolment, SupportDay, SupportPlan, TeamMember
from support_network.calendar import fiscal_year
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, CompanyFactory, ConsentFactory
from tests.programs.factories import (
    EnrolmentFactory,
    ProgramRoundFactory,
    SubsidyOutcomeFactory,
    SupportDayFactory,
    SupportPlanFactory,
    program,
)

pytestmark = pytest.mark.django_db

FY = fiscal_year(timezone.localdate())


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def page(response) -> str:
    return response.content.decode()


def errors_of(html: str, field: str) -> list[str]:
    """Return the error messages shown beside a form field."""
    return re.findall(
        rf'<p class="error" role="alert" id="id_{field}_error">(.*?)</p>', html
    )


@pytest.fixture
def coordinator(network):
    """A coordinator of INPIT, the operator of IPAS, iAca, iNat, IPランドスケープ."""
    return make_actor("inpit", "coordinator")


@pytest.fixture
def startup_case(staff_a, network):
    """An open case of org A about a startup that IPAS accepts."""
    company = CompanyFactory(
        name="株式会社スタートアップ試験",
        registered_by=network["inpit-window-13"],
        founded_on=timezone.localdate() - dt.timedelta(days=700),
        employees=4,
    )
    return CaseFactory(company=company, created_by=staff_a.user, title="IPASの相談")


def ipas_enrolment(case=None, status="applied", **kwargs):
    round_ = ProgramRoundFactory(program=program("ipas"), fiscal_year=FY, capacity=20)
    if case is not None:
        kwargs.update(case=case, company=case.company)
    return EnrolmentFactory(round=round_, status=status, **kwargs)


def apply_post(**overrides):
    data = {
        "program": "ipas",
        "fiscal_year": str(FY),
        "scheme": "",
        "joint_research_yen_per_year": "",
    }
    data.update(overrides)
    return data


# --- Program list and program page ----------------------------------------------------


def test_program_list_shows_operator_who_may_apply_duration_and_this_years_seats(
    staff_a,
):
    ProgramRoundFactory(program=program("ipas"), fiscal_year=FY, capacity=20)
    EnrolmentFactory(
        round__program=program("ipas"), round__fiscal_year=FY, status="accepted"
    )

    response = client_for(staff_a).get(reverse("programs:program-list"))
    html = page(response)

    assert response.status_code == 200
    row = re.search(r'<tr id="program-ipas">(.*?)</tr>', html, re.S).group(1)
    assert "IPAS 知財アクセラレーションプログラム" in row
    assert "独立行政法人工業所有権情報・研修館 (INPIT)" in row
    assert "スタートアップ（特許庁の定義: 設立10年未満など）に限る" in row
    assert "5か月" in row
    assert "1 / 20" in row
    assert (
        "中小企業等外国出願支援事業" in html
    )  # subsidies are listed apart, with an estimate link
    assert reverse("programs:program-detail", args=["overseas_filing"]) in html


def test_nav_links_to_the_programs(staff_a):
    html = page(client_for(staff_a).get(reverse("home")))

    assert f'href="{reverse("programs:program-list")}"' in html
    assert "支援事業" in html


def test_program_page_shows_rules_rounds_with_wareki_labels_and_seats(staff_a):
    round_ = ProgramRoundFactory(program=program("iaca"), fiscal_year=2025, capacity=40)
    EnrolmentFactory(round=round_, status="active", scheme="3")

    response = client_for(staff_a).get(
        reverse("programs:program-detail", args=["iaca"])
    )
    html = page(response)

    assert response.status_code == 200
    assert "2025年度（令和7年度）" in html
    assert re.search(r'id="round-2025">.*?1 / 40', html, re.S)
    assert "支援期ごとに最大30日（支援計画で25〜30日に設定できます）" in html
    assert (
        "企業との大型共同研究支援（企業との共同研究費が年間10,000,000円以上）" in html
    )
    assert "継続支援あり（前の支援期の支援計画の達成が条件）" in html


def test_program_page_lists_only_enrolments_the_user_may_see_by_status(
    staff_a, staff_b, startup_case
):
    ipas_enrolment(startup_case, status="screening")

    mine = page(
        client_for(staff_a).get(reverse("programs:program-detail", args=["ipas"]))
    )
    other = page(
        client_for(staff_b).get(reverse("programs:program-detail", args=["ipas"]))
    )

    assert 'id="status-screening"' in mine
    assert "株式会社スタートアップ試験" in mine
    assert "株式会社スタートアップ試験" not in other
    assert 'id="status-screening"' not in other
    assert "閲覧できる参加はありません。" in other


def test_an_unknown_program_is_a_404(staff_a):
    response = client_for(staff_a).get(
        reverse("programs:program-detail", args=["nope"])
    )

    assert response.status_code == 404


def test_program_pages_need_a_login(network):
    response = Client().get(reverse("programs:program-list"))

    assert response.status_code == 302
    assert response.url.startswith("/login/")


# --- Subsidy estimate on the program page ------------------------------------------------


def estimate_post(*items, fy=FY, granted="", **extra):
    data = {
        "fiscal_year": str(fy),
        "already_granted_yen": granted,
        "items-TOTAL_FORMS": str(max(len(items), 1)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "20",
    }
    for n, (right, cost) in enumerate(items):
        data[f"items-{n}-right"] = right
        data[f"items-{n}-cost_yen"] = str(cost)
    data.update(extra)
    return data


def test_estimate_is_explained_line_by_line_in_japanese(staff_a):
    url = reverse("programs:program-detail", args=["overseas_filing"])

    response = client_for(staff_a).post(
        url,
        estimate_post(
            ("patent", 3_000_002),
            ("trademark", 1_000_001),
            granted="1,000,000".replace(",", ""),
        ),
    )
    html = page(response)

    assert response.status_code == 200
    assert (
        "特許: 3,000,002円 × 1/2 = 1,500,001円 → 1,500,000円（1件上限 1,500,000円）"
        in html
    )
    # 2,000,000 left of the 3,000,000 a year: the trademark's 500,000 fits.
    assert "商標: 1,000,001円 × 1/2 = 500,000円（1件上限 600,000円）" in html
    assert "補助率 1/2 を費用に掛け、1円未満は切り捨てます" in html
    assert (
        f"1企業の{FY}年度（" in html
        and "上限 3,000,000円 − 交付済み 1,000,000円 = 残り 2,000,000円" in html
    )
    assert re.search(r'id="estimate-total">2,000,000円', html)


def test_estimate_cuts_the_item_that_crosses_the_company_cap(staff_a):
    url = reverse("programs:program-detail", args=["overseas_filing"])

    html = page(
        client_for(staff_a).post(
            url, estimate_post(("patent", 3_000_000), granted="2000000")
        )
    )

    assert (
        "特許: 3,000,000円 × 1/2 = 1,500,000円（1件上限 1,500,000円）"
        " → 1,000,000円（1企業の年度上限 3,000,000円の残り 1,000,000円）"
    ) in html
    assert re.search(r'id="estimate-total">1,000,000円', html)


def test_estimate_for_a_company_counts_its_grants_of_the_year(staff_a, startup_case):
    SubsidyOutcomeFactory(case=startup_case, amount_yen=2_500_000)
    url = reverse("programs:program-detail", args=["overseas_filing"])

    html = page(
        client_for(staff_a).post(
            f"{url}?company={startup_case.company_id}",
            estimate_post(("patent", 3_000_000)),
        )
    )

    assert "株式会社スタートアップ試験" in html
    assert "交付済み 2,500,000円 = 残り 500,000円" in html
    assert re.search(r'id="estimate-total">500,000円', html)


def test_litigation_insurance_estimate_takes_a_renewal(staff_a):
    url = reverse("programs:program-detail", args=["litigation_insurance"])
    data = estimate_post(("patent", 300_000))
    data["items-0-renewal"] = "on"

    html = page(client_for(staff_a).post(url, data))

    assert "特許（更新）: 300,000円 × 1/3 = 100,000円" in html
    assert "1企業あたりの上限はありません。" in html


def test_an_estimate_without_any_cost_is_a_400_in_japanese(staff_a):
    url = reverse("programs:program-detail", args=["counterfeit"])

    response = client_for(staff_a).post(url, estimate_post(("patent", "")))

    assert response.status_code == 400
    assert "見積もる費用を1件以上入力してください。" in page(response)


def test_an_estimate_of_a_large_company_is_refused_in_japanese(staff_a, network):
    large = CompanyFactory(
        registered_by=network["inpit-window-13"],
        capital_yen=1_000_000_000,
        employees=3000,
    )
    url = reverse("programs:program-detail", args=["overseas_filing"])

    response = client_for(staff_a).post(
        f"{url}?company={large.pk}", estimate_post(("patent", 100))
    )

    assert response.status_code == 400
    assert "の対象は小規模企業者、中小企業者です" in page(response)


def test_a_negative_cost_is_refused_beside_the_item(staff_a):
    url = reverse("programs:program-detail", args=["counterfeit"])

    response = client_for(staff_a).post(url, estimate_post(("patent", -1)))

    assert response.status_code == 400
    assert "この値は 0 以上でなければなりません。" in page(response)


# --- Case page links ------------------------------------------------------------------------


def test_case_page_lists_its_enrolments_and_offers_to_apply(staff_a, startup_case):
    enrolment = ipas_enrolment(
        startup_case, status="active", ends_on=dt.date(2027, 4, 21)
    )

    html = page(
        client_for(staff_a).get(reverse("crm:case-detail", args=[startup_case.pk]))
    )

    section = re.search(
        r'<section class="panel" id="enrolments">(.*?)</section>', html, re.S
    )
    assert section is not None
    assert reverse("programs:enrolment-detail", args=[enrolment.pk]) in section.group(1)
    assert "支援中" in section.group(1)
    assert "2027/4/21" in section.group(1)
    assert reverse("programs:enrolment-apply", args=[startup_case.pk]) in html
    assert "支援事業に申し込む" in html


def test_referral_page_links_to_referring_into_a_program(staff_a, startup_case):
    html = page(
        client_for(staff_a).get(reverse("crm:referral-create", args=[startup_case.pk]))
    )

    assert reverse("programs:enrolment-refer", args=[startup_case.pk]) in html
    assert "支援事業へ紹介する" in html


# --- Apply form ------------------------------------------------------------------------------


def test_apply_form_applies_and_opens_the_enrolment_page(staff_a, startup_case):
    ProgramRoundFactory(program=program("ipas"), fiscal_year=FY, capacity=20)
    url = reverse("programs:enrolment-apply", args=[startup_case.pk])

    response = client_for(staff_a).post(url, apply_post())

    enrolment = Enrolment.objects.get(company=startup_case.company)
    assert response.status_code == 302
    assert response.url == reverse("programs:enrolment-detail", args=[enrolment.pk])
    assert enrolment.status == "applied"
    assert enrolment.case == startup_case
    assert enrolment.organisation.code == "inpit-window-13"


def test_apply_form_shows_not_eligible_beside_the_program_and_keeps_the_input(
    staff_a, network
):
    university = CompanyFactory(
        registered_by=network["inpit-window-13"], kind="university"
    )
    case = CaseFactory(company=university, created_by=staff_a.user)
    ProgramRoundFactory(program=program("ipas"), fiscal_year=FY)

    response = client_for(staff_a).post(
        reverse("programs:enrolment-apply", args=[case.pk]), apply_post()
    )
    html = page(response)

    assert response.status_code == 400
    assert errors_of(html, "program") == [
        "IPASの対象は法人（会社）です（この企業等の種別: 大学・高専）。"
    ]
    assert re.search(r'<option value="ipas" selected>', html)
    assert not Enrolment.objects.exists()


def test_apply_form_shows_the_joint_research_rule_beside_that_field(staff_a, network):
    university = CompanyFactory(
        registered_by=network["inpit-window-13"], kind="university"
    )
    case = CaseFactory(company=university, created_by=staff_a.user)
    ProgramRoundFactory(program=program("iaca"), fiscal_year=FY)

    response = client_for(staff_a).post(
        reverse("programs:enrolment-apply", args=[case.pk]),
        apply_post(program="iaca", scheme="3", joint_research_yen_per_year="9999999"),
    )
    html = page(response)

    assert response.status_code == 400
    assert errors_of(html, "joint_research_yen_per_year") == [
        "iAcaの類型③（企業との大型共同研究支援）は、企業との共同研究費が年間"
        "10,000,000円以上の場合に限られます（申込の共同研究費: 年間9,999,999円）。"
    ]
    assert 'value="9999999"' in html
    assert not Enrolment.objects.exists()


def test_apply_form_asks_inat_applicants_to_confirm_a_national_project(
    staff_a, network
):
    institute = CompanyFactory(
        registered_by=network["inpit-window-13"], kind="research_institute"
    )
    case = CaseFactory(company=institute, created_by=staff_a.user)
    ProgramRoundFactory(program=program("inat"), fiscal_year=FY)
    url = reverse("programs:enrolment-apply", args=[case.pk])
    client = client_for(staff_a)

    refused = client.post(url, apply_post(program="inat", scheme="1"))
    accepted = client.post(
        url, apply_post(program="inat", scheme="1", is_national_project="on")
    )

    assert refused.status_code == 400
    assert errors_of(page(refused), "is_national_project")[0].startswith(
        "iNatの対象は、国プロ"
    )
    assert accepted.status_code == 302
    assert Enrolment.objects.get(company=institute).scheme == "1"


def test_apply_form_without_a_round_shows_the_error_beside_the_fiscal_year(
    staff_a, startup_case
):
    # A year some program has a round in, but not VC-IPAS.
    ProgramRoundFactory(program=program("ipas"), fiscal_year=FY + 3)

    response = client_for(staff_a).post(
        reverse("programs:enrolment-apply", args=[startup_case.pk]),
        apply_post(program="vc_ipas", fiscal_year=str(FY + 3)),
    )

    assert response.status_code == 400
    assert errors_of(page(response), "fiscal_year") == [
        f"VC-IPASの{FY + 3}年度の募集回はありません。"
    ]
    assert not Enrolment.objects.exists()


def test_a_second_application_shows_409_with_a_link_to_the_first(staff_a, startup_case):
    first = ipas_enrolment(startup_case)

    response = client_for(staff_a).post(
        reverse("programs:enrolment-apply", args=[startup_case.pk]), apply_post()
    )
    html = page(response)

    assert response.status_code == 409
    assert "既に申し込んでいます" in errors_of(html, "program")[0]
    assert reverse("programs:enrolment-detail", args=[first.pk]) in html
    assert Enrolment.objects.count() == 1


def test_apply_form_warns_when_the_round_is_full(staff_a, startup_case):
    round_ = ProgramRoundFactory(program=program("ipas"), fiscal_year=FY, capacity=1)
    EnrolmentFactory(round=round_, status="accepted")

    response = client_for(staff_a).get(
        reverse("programs:enrolment-apply", args=[startup_case.pk]) + "?program=ipas"
    )

    assert "採択枠（1件）は埋まっています" in page(response)


def test_apply_form_of_an_invisible_case_is_a_404(staff_b, startup_case):
    url = reverse("programs:enrolment-apply", args=[startup_case.pk])

    assert client_for(staff_b).get(url).status_code == 404
    assert client_for(staff_b).post(url, apply_post()).status_code == 404
    assert not Enrolment.objects.exists()


def test_a_bad_fiscal_year_or_program_is_a_400_not_a_500(staff_a, startup_case):
    url = reverse("programs:enrolment-apply", args=[startup_case.pk])

    response = client_for(staff_a).post(
        url,
        apply_post(program="nope", fiscal_year="abc", joint_research_yen_per_year="-5"),
    )

    assert response.status_code == 400
    assert not Enrolment.objects.exists()


# --- Enrolment page ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff_a", "coordinator"])
def test_enrolment_page_renders_for_the_applicant_and_the_operator(
    request, persona, startup_case
):
    enrolment = ipas_enrolment(startup_case)
    actor = request.getfixturevalue(persona)

    response = client_for(actor).get(
        reverse("programs:enrolment-detail", args=[enrolment.pk])
    )

    assert response.status_code == 200
    assert "株式会社スタートアップ試験" in page(response)


@pytest.mark.parametrize("persona", ["staff_b", "other_hub_coordinator"])
def test_an_enrolment_the_user_may_not_see_is_a_404_on_every_page(
    request, persona, startup_case
):
    enrolment = ipas_enrolment(startup_case, status="active")
    client = client_for(request.getfixturevalue(persona))

    assert (
        client.get(
            reverse("programs:enrolment-detail", args=[enrolment.pk])
        ).status_code
        == 404
    )
    for name, data in [
        ("programs:enrolment-transition", {"status": "completed"}),
        ("programs:enrolment-plan", {"goals": "x"}),
        ("programs:enrolment-support-day", {"date": "2026-11-20", "days": "1"}),
        ("programs:enrolment-team-add", {"membership": "1", "role": "ip_expert"}),
        ("programs:enrolment-continue", {}),
    ]:
        assert client.post(reverse(name, args=[enrolment.pk]), data).status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.status == "active"


def test_only_the_operators_coordinator_sees_the_transition_buttons(
    staff_a, coordinator, startup_case
):
    enrolment = ipas_enrolment(startup_case, status="screening")
    url = reverse("programs:enrolment-detail", args=[enrolment.pk])

    operator_html = page(client_for(coordinator).get(url))
    applicant_html = page(client_for(staff_a).get(url))

    action = reverse("programs:enrolment-transition", args=[enrolment.pk])
    assert action in operator_html
    for label in ("採択する", "不採択にする", "辞退・中止にする"):
        assert label in operator_html
    assert "支援を開始する" not in operator_html  # not legal from screening
    assert action not in applicant_html
    assert "状態を変更できるのは実施機関" in applicant_html


def test_the_coordinator_moves_an_enrolment_and_support_gets_an_end_date(
    coordinator, startup_case
):
    enrolment = ipas_enrolment(startup_case, status="accepted")
    client = client_for(coordinator)

    response = client.post(
        reverse("programs:enrolment-transition", args=[enrolment.pk]),
        {"status": "active"},
    )

    enrolment.refresh_from_db()
    assert response.status_code == 302
    assert enrolment.status == "active"
    today = timezone.localdate()
    assert enrolment.started_on == today
    html = page(client.get(reverse("programs:enrolment-detail", args=[enrolment.pk])))
    assert f"{enrolment.ends_on:%Y/%-m/%-d}" in html


def test_an_applicant_pressing_a_transition_gets_a_403_in_japanese(
    staff_a, startup_case
):
    enrolment = ipas_enrolment(startup_case, status="screening")

    response = client_for(staff_a).post(
        reverse("programs:enrolment-transition", args=[enrolment.pk]),
        {"status": "accepted"},
    )

    assert response.status_code == 403
    assert "コーディネーターと管理者だけです" in page(response)
    enrolment.refresh_from_db()
    assert enrolment.status == "screening"


def test_an_illegal_transition_is_a_409_in_japanese(coordinator, startup_case):
    enrolment = ipas_enrolment(startup_case, status="applied")

    response = client_for(coordinator).post(
        reverse("programs:enrolment-transition", args=[enrolment.pk]),
        {"status": "completed"},
    )

    assert response.status_code == 409
    assert "「申込」の参加を「完了」にはできません。" in page(response)


def test_accepting_past_the_capacity_is_a_409_round_full_in_japanese(
    coordinator, startup_case
):
    round_ = ProgramRoundFactory(program=program("ipas"), fiscal_year=FY, capacity=1)
    EnrolmentFactory(round=round_, status="accepted")
    enrolment = EnrolmentFactory(
        round=round_,
        status="screening",
        case=startup_case,
        company=startup_case.company,
    )

    response = client_for(coordinator).post(
        reverse("programs:enrolment-transition", args=[enrolment.pk]),
        {"status": "accepted"},
    )

    assert response.status_code == 409
    assert "採択枠（1件）は埋まっているため、採択できません。" in page(response)
    enrolment.refresh_from_db()
    assert enrolment.status == "screening"


def test_an_unknown_status_is_a_400_not_a_500(coordinator, startup_case):
    enrolment = ipas_enrolment(startup_case)

    response = client_for(coordinator).post(
        reverse("programs:enrolment-transition", args=[enrolment.pk]),
        {"status": "nonsense"},
    )

    assert response.status_code == 400
    assert "状態が正しくありません。" in page(response)


# --- Support plan, support days, team, continuation -------------------------------------------


def iaca_active(network, **kwargs):
    university = CompanyFactory(
        registered_by=network["inpit-window-13"], kind="university"
    )
    round_ = ProgramRoundFactory(program=program("iaca"), fiscal_year=FY)
    return EnrolmentFactory(
        round=round_,
        company=university,
        status="active",
        scheme="1",
        started_on=timezone.localdate() - dt.timedelta(days=60),
        **kwargs,
    )


def test_the_plan_form_saves_goals_and_the_period_day_quota(coordinator, network):
    enrolment = iaca_active(network)

    response = client_for(coordinator).post(
        reverse("programs:enrolment-plan", args=[enrolment.pk]),
        {"goals": "有望シーズ3件の出口戦略", "day_quota": "25"},
    )

    assert response.status_code == 302
    plan = SupportPlan.objects.get(enrolment=enrolment)
    assert plan.goals == "有望シーズ3件の出口戦略"
    assert plan.day_quota_days == 25
    assert plan.is_achieved is False


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"goals": "  "}, "goals", "この項目は必須です。"),
        (
            {"goals": "目標", "day_quota": "24"},
            "day_quota",
            "iAcaの支援期ごとの日数上限は25日から30日の間で設定してください。",
        ),
        (
            {"goals": "目標", "day_quota": "31"},
            "day_quota",
            "iAcaの支援期ごとの日数上限は25日から30日の間で設定してください。",
        ),
    ],
)
def test_the_plan_form_shows_errors_beside_the_field(
    coordinator, network, data, field, message
):
    enrolment = iaca_active(network)

    response = client_for(coordinator).post(
        reverse("programs:enrolment-plan", args=[enrolment.pk]), data
    )

    assert response.status_code == 400
    assert errors_of(page(response), field) == [message]
    assert not SupportPlan.objects.exists()


def test_a_day_is_logged_and_the_quota_shows_used_and_remaining(coordinator, network):
    enrolment = iaca_active(network)
    SupportPlanFactory(enrolment=enrolment)
    client = client_for(coordinator)

    response = client.post(
        reverse("programs:enrolment-support-day", args=[enrolment.pk]),
        {"date": timezone.localdate().isoformat(), "days": "0.5", "note": "面談"},
    )

    assert response.status_code == 302
    assert SupportDay.objects.get(enrolment=enrolment).days == Decimal("0.5")
    html = page(client.get(reverse("programs:enrolment-detail", args=[enrolment.pk])))
    assert "使用 0.5日 ／ 上限 30日（残り 29.5日）" in html


def test_a_day_past_the_quota_is_a_400_quota_exceeded_in_japanese(coordinator, network):
    enrolment = iaca_active(network)
    SupportPlanFactory(enrolment=enrolment, day_quota_days=25)
    started = enrolment.started_on
    for n in range(25):
        SupportDayFactory(enrolment=enrolment, date=started + dt.timedelta(days=n))

    response = client_for(coordinator).post(
        reverse("programs:enrolment-support-day", args=[enrolment.pk]),
        {"date": timezone.localdate().isoformat(), "days": "0.5", "note": ""},
    )

    assert response.status_code == 400
    assert (
        "iAcaの支援日数の上限はこの期の支援計画で支援期ごとに25日です。"
        "第1期の残りは0日のため、0.5日は記録できません。"
    ) in page(response)
    assert SupportDay.objects.filter(enrolment=enrolment).count() == 25


def test_a_day_before_the_plan_is_refused_in_japanese(coordinator, network):
    enrolment = iaca_active(network)

    response = client_for(coordinator).post(
        reverse("programs:enrolment-support-day", args=[enrolment.pk]),
        {"date": timezone.localdate().isoformat(), "days": "1"},
    )

    assert response.status_code == 400
    assert "支援日を記録する前に第1期の支援計画を登録してください。" in page(response)
    assert not SupportDay.objects.exists()


def test_the_applicant_sees_no_plan_or_day_forms(staff_a, network):
    enrolment = iaca_active(network)

    html = page(
        client_for(staff_a).get(
            reverse("programs:enrolment-detail", args=[enrolment.pk])
        )
    )

    assert reverse("programs:enrolment-plan", args=[enrolment.pk]) not in html
    assert reverse("programs:enrolment-support-day", args=[enrolment.pk]) not in html


def test_the_coordinator_forms_the_ipas_team_from_experts(coordinator, startup_case):
    enrolment = ipas_enrolment(startup_case, status="accepted")
    ip_expert = make_actor("jpaa-kanto", "expert", username="benrishi-ip")
    client = client_for(coordinator)
    url = reverse("programs:enrolment-detail", args=[enrolment.pk])

    before = page(client.get(url))
    response = client.post(
        reverse("programs:enrolment-team-add", args=[enrolment.pk]),
        {"membership": str(ip_expert.membership.pk), "role": "ip_expert"},
    )
    after = page(client.get(url))

    assert "未配置の役割: 知財専門家、ビジネス専門家" in before
    assert response.status_code == 302
    assert TeamMember.objects.get(enrolment=enrolment).role == "ip_expert"
    assert "benrishi-ip" in after
    assert "未配置の役割: ビジネス専門家" in after


def test_a_member_who_is_not_an_expert_cannot_join_the_team(
    coordinator, staff_a, startup_case
):
    enrolment = ipas_enrolment(startup_case, status="accepted")

    response = client_for(coordinator).post(
        reverse("programs:enrolment-team-add", args=[enrolment.pk]),
        {"membership": str(staff_a.membership.pk), "role": "ip_expert"},
    )

    assert response.status_code == 400
    assert not TeamMember.objects.exists()


def test_continuation_needs_the_plan_achieved(coordinator, network):
    enrolment = iaca_active(network)
    plan = SupportPlanFactory(enrolment=enrolment)
    client = client_for(coordinator)
    url = reverse("programs:enrolment-continue", args=[enrolment.pk])

    refused = client.post(url)
    plan.is_achieved = True
    plan.save()
    continued = client.post(url)

    assert refused.status_code == 409
    assert "iAcaの継続には、第1期の支援計画の達成が必要です。" in page(refused)
    assert continued.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.period == 2


# --- Refer a case into a program ---------------------------------------------------------------


@pytest.fixture
def yorozu_staff(network):
    return make_actor("yorozu-13", "window_staff", username="yorozu-tokyo-staff")


@pytest.fixture
def yorozu_case(yorozu_staff, network):
    company = CompanyFactory(
        name="株式会社紹介スタートアップ",
        registered_by=network["yorozu-13"],
        founded_on=timezone.localdate() - dt.timedelta(days=400),
        employees=3,
    )
    ProgramRoundFactory(program=program("ipas"), fiscal_year=FY, capacity=20)
    return CaseFactory(
        company=company, organisation=network["yorozu-13"], created_by=yorozu_staff.user
    )


def refer_post(**overrides):
    data = apply_post(
        action="send", topics=["patent"], reason="IPASでの知財戦略づくりを希望"
    )
    data.update(overrides)
    return data


def test_referring_without_consent_asks_for_it_and_writes_nothing(
    yorozu_staff, yorozu_case
):
    response = client_for(yorozu_staff).post(
        reverse("programs:enrolment-refer", args=[yorozu_case.pk]), refer_post()
    )
    html = page(response)

    assert response.status_code == 200
    assert "第三者提供の同意が必要です" in html
    assert "同意を記録して紹介・申込する" in html
    assert "IPASでの知財戦略づくりを希望" in html  # kept
    assert not Enrolment.objects.exists()
    assert not Referral.objects.exists()


def test_referring_with_consent_on_the_spot_refers_and_applies_at_once(
    yorozu_staff, yorozu_case, coordinator
):
    response = client_for(yorozu_staff).post(
        reverse("programs:enrolment-refer", args=[yorozu_case.pk]),
        refer_post(
            action="consent_send",
            **{
                "consent-scope": "network",
                "consent-obtained_on": timezone.localdate().isoformat(),
                "consent-method": "written",
            },
        ),
    )

    enrolment = Enrolment.objects.get(company=yorozu_case.company)
    referral = Referral.objects.get(case=yorozu_case)
    assert response.status_code == 302
    assert response.url == reverse("programs:enrolment-detail", args=[enrolment.pk])
    assert enrolment.referral == referral
    assert enrolment.case == yorozu_case
    assert referral.to_organisation.code == "inpit"
    assert Consent.objects.filter(company=yorozu_case.company).count() == 1
    assert ProvisionRecord.objects.filter(referral=referral).count() == 1
    # The operator now sees the enrolment and the case.
    operator_html = page(
        client_for(coordinator).get(
            reverse("programs:enrolment-detail", args=[enrolment.pk])
        )
    )
    assert "実施機関への紹介: 紹介済み（回答待ち）" in operator_html


def test_an_ineligible_referral_writes_neither_consent_nor_referral(
    yorozu_staff, yorozu_case
):
    company = yorozu_case.company
    company.founded_on = timezone.localdate() - dt.timedelta(days=365 * 11)
    company.save()

    response = client_for(yorozu_staff).post(
        reverse("programs:enrolment-refer", args=[yorozu_case.pk]),
        refer_post(
            action="consent_send",
            **{
                "consent-scope": "network",
                "consent-obtained_on": timezone.localdate().isoformat(),
                "consent-method": "written",
            },
        ),
    )

    assert response.status_code == 400
    assert errors_of(page(response), "program")[0].startswith(
        "IPASの対象はスタートアップ"
    )
    assert not Consent.objects.exists()
    assert not Referral.objects.exists()
    assert not Enrolment.objects.exists()


def test_referring_with_an_existing_consent_goes_straight_through(
    yorozu_staff, yorozu_case
):
    ConsentFactory(company=yorozu_case.company, scope="network")

    response = client_for(yorozu_staff).post(
        reverse("programs:enrolment-refer", args=[yorozu_case.pk]), refer_post()
    )

    assert response.status_code == 302
    assert Enrolment.objects.get().referral == Referral.objects.get()


def test_the_refer_page_leaves_out_programs_the_user_operates(coordinator, network):
    company = CompanyFactory(registered_by=network["inpit"])
    case = CaseFactory(company=company, organisation=network["inpit"])

    html = page(
        client_for(coordinator).get(reverse("programs:enrolment-refer", args=[case.pk]))
    )

    assert 'value="ipas"' not in html
    assert 'value="vc_ipas"' in html  # run by JPO


# --- Bad input is never a 500 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("programs:enrolment-plan", {"goals": "x" * 10_001}),
        ("programs:enrolment-plan", {"goals": "目標", "day_quota": "abc"}),
        ("programs:enrolment-support-day", {"date": "abc", "days": "1"}),
        ("programs:enrolment-support-day", {"date": "2026-11-20", "days": "2"}),
        ("programs:enrolment-support-day", {"date": "2999-01-01", "days": "1"}),
        ("programs:enrolment-team-add", {"membership": "abc", "role": "ip_expert"}),
        ("programs:enrolment-team-add", {"membership": "999999", "role": "boss"}),
        ("programs:enrolment-transition", {}),
    ],
)
def test_bad_enrolment_form_input_is_a_4xx_with_nothing_written(
    coordinator, network, name, data
):
    enrolment = iaca_active(network)
    SupportPlanFactory(enrolment=enrolment, goals="元の目標")

    response = client_for(coordinator).post(reverse(name, args=[enrolment.pk]), data)

    assert 400 <= response.status_code < 500
    assert SupportPlan.objects.get(enrolment=enrolment).goals == "元の目標"
    assert not SupportDay.objects.exists()
    assert not TeamMember.objects.exists()
    enrolment.refresh_from_db()
    assert enrolment.status == "active"


def test_a_team_member_of_another_enrolment_is_a_404(
    coordinator, network, startup_case
):
    other = ipas_enrolment(startup_case, status="accepted")
    expert = make_actor("jpaa-kanto", "expert", username="benrishi-other")
    member = TeamMember.objects.create(
        enrolment=other, membership=expert.membership, role="ip_expert"
    )
    enrolment = iaca_active(network)

    response = client_for(coordinator).post(
        reverse("programs:enrolment-team-remove", args=[enrolment.pk, member.pk])
    )

    assert response.status_code == 404
    assert TeamMember.objects.filter(pk=member.pk).exists()


def test_a_broken_estimate_form_is_a_400(staff_a):
    url = reverse("programs:program-detail", args=["overseas_filing"])

    response = client_for(staff_a).post(url, {"fiscal_year": "x"})

    assert response.status_code == 400


def test_posting_to_an_enrolment_program_page_is_a_405(staff_a):
    response = client_for(staff_a).post(
        reverse("programs:program-detail", args=["ipas"]), {}
    )

    assert response.status_code == 405
