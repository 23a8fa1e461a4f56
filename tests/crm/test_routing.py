"""Routing suggestions: where to refer a case (issue 4 §4).

Ranked by topic ↔ expertise, prefecture / region, and open load against
capacity, each with a one-line Japanese reason.
"""

from __future__ import annotations

import pytest

from crm.models import Referral
from crm.selectors.suggestions import referral_suggestions
from crm.services.referral_transitions import referral_cancel
from crm.services.referrals import referral_send
from support_network.errors import NotVisible, ValidationFailed
from support_network.models import ExpertiseTag, Organisation
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, ConsentFactory, ConsultationFactory

WINDOW_13 = "inpit-window-13"


def a_case(network, owner=WINDOW_13, prefecture="13"):
    coordinator = make_actor(owner, "coordinator")
    case = CaseFactory(
        organisation=network[owner],
        created_by=coordinator.user,
        assignee=coordinator.user,
        company__prefecture_id=prefecture,
    )
    return coordinator, case


def codes(suggestions):
    return [s.organisation.code for s in suggestions]


def test_trade_secrets_go_to_the_trade_secret_desk(network):
    coordinator, case = a_case(network)

    suggestions = referral_suggestions(coordinator, case, ["trade_secret"])

    top = suggestions[0]
    assert top.organisation.code == "inpit-expert-trade-secret"
    assert top.reason == "営業秘密の専門窓口・全国対応"
    assert top.matched == ("trade_secret",)
    assert 0 < top.score <= 1
    assert [s.score for s in suggestions] == sorted(
        (s.score for s in suggestions), reverse=True
    )


def test_overseas_goes_to_the_overseas_desk_then_jetro(network):
    coordinator, case = a_case(network)

    suggestions = referral_suggestions(coordinator, case, ["overseas"])

    assert codes(suggestions)[:2] == ["inpit-expert-overseas", "jetro"]
    assert suggestions[0].reason == "海外展開の専門窓口・全国対応"


@pytest.mark.parametrize(
    ("owner", "prefecture", "branch", "pref_name"),
    [
        ("yorozu-13", "13", "jpaa-kanto", "東京都"),
        ("inpit-window-27", "27", "jpaa-kansai", "大阪府"),
        # 長野県: 関東経済産業局, but 弁理士会 東海会 (reference/prefectures.md).
        ("inpit-window-20", "20", "jpaa-tokai", "長野県"),
    ],
)
def test_patent_drafting_goes_to_the_prefectures_jpaa_branch(
    network, owner, prefecture, branch, pref_name
):
    coordinator, case = a_case(network, owner, prefecture)

    suggestions = referral_suggestions(
        coordinator, case, ["patent", "drafting"]
    )

    assert suggestions[0].organisation.code == branch
    assert f"{pref_name}を管轄" in suggestions[0].reason
    # No other 地域会: each prefecture has exactly one.
    assert [c for c in codes(suggestions) if c.startswith("jpaa-") and c != "jpaa"] == [
        branch
    ]


def test_a_plain_patent_question_from_yorozu_goes_to_the_inpit_window_first(network):
    coordinator, case = a_case(network, "yorozu-13")

    suggestions = referral_suggestions(coordinator, case, ["patent"])

    assert codes(suggestions)[:2] == [WINDOW_13, "jpaa-kanto"]
    assert suggestions[0].reason == "特許に対応（INPIT 知財総合支援窓口）・東京都の窓口"


@pytest.mark.parametrize(
    ("prefecture", "yorozu"), [("13", "yorozu-13"), ("27", "yorozu-27")]
)
@pytest.mark.parametrize("topics", [["branding", "subsidy"], ["management"]])
def test_management_issues_go_to_the_prefectures_yorozu(
    network, prefecture, yorozu, topics
):
    owner = f"inpit-window-{prefecture}"
    coordinator, case = a_case(network, owner, prefecture)

    suggestions = referral_suggestions(coordinator, case, topics)

    assert suggestions[0].organisation.code == yorozu
    # Only the company's own prefecture's よろず拠点: every prefecture has one.
    assert [c for c in codes(suggestions) if c.startswith("yorozu-")] == [yorozu]


def test_unfair_dealing_by_a_large_customer_goes_to_ip_gmen(network):
    coordinator, case = a_case(network)

    suggestions = referral_suggestions(
        coordinator, case, ["unfair_dealing", "contract"]
    )

    assert suggestions[0].organisation.code == "ip-gmen"
    assert suggestions[0].reason == (
        "取引上の不当な扱い・下請取引の専門窓口・契約も対応・全国対応"
    )


def test_a_startup_goes_to_the_startup_desk_not_another_desk_that_lists_it(network):
    coordinator, case = a_case(network)

    suggestions = referral_suggestions(coordinator, case, ["startup"])

    assert suggestions[0].organisation.code == "inpit-expert-startup"
    assert codes(suggestions).index("inpit-expert-academia") > 0


def test_the_cases_own_organisation_and_the_actors_are_never_suggested(network):
    coordinator, case = a_case(network, WINDOW_13)
    yorozu = make_actor("yorozu-13", "coordinator")
    ConsentFactory(company=case.company, scope="organisations").organisations.add(
        network["yorozu-13"]
    )
    referral_send(
        actor=coordinator,
        case=case,
        to_organisation=network["yorozu-13"],
        reason="経営面の支援",
        topics=["branding"],
    )

    for actor in (coordinator, yorozu):
        suggested = codes(referral_suggestions(actor, case, ["patent"]))
        assert WINDOW_13 not in suggested
        assert "yorozu-13" not in suggested


def test_an_organisation_already_holding_an_open_referral_is_not_suggested(network):
    coordinator, case = a_case(network)
    ConsentFactory(company=case.company, scope="organisations").organisations.add(
        network["inpit-expert-trade-secret"]
    )
    referral = referral_send(
        actor=coordinator,
        case=case,
        to_organisation=network["inpit-expert-trade-secret"],
        reason="営業秘密の管理",
        topics=["trade_secret"],
    )

    assert "inpit-expert-trade-secret" not in codes(
        referral_suggestions(coordinator, case, ["trade_secret"])
    )
    referral_cancel(actor=coordinator, referral=referral)
    assert codes(referral_suggestions(coordinator, case, ["trade_secret"]))[
        0
    ] == ("inpit-expert-trade-secret")


def test_open_load_against_capacity_lowers_the_rank_and_says_so(network):
    coordinator, case = a_case(network)
    Organisation.objects.filter(code="jpaa-kanto").update(capacity=2)
    before = referral_suggestions(coordinator, case, ["patent", "drafting"])
    assert before[0].organisation.code == "jpaa-kanto"
    assert before[0].open_count == 0

    # One open referral: still first, with its load in the reason.
    other = CaseFactory(organisation=network["yorozu-13"])
    Referral.objects.create(
        case=other,
        from_organisation=network["yorozu-13"],
        to_organisation=network["jpaa-kanto"],
        sent_by=coordinator.user,
        reason="x",
        respond_by=case.opened_on,
    )
    half = referral_suggestions(coordinator, case, ["patent", "drafting"])
    assert half[0].organisation.code == "jpaa-kanto"
    assert half[0].score < before[0].score
    assert half[0].reason.endswith("受入中 1/2件")

    # At capacity: shown, but after the desks that have room.
    Referral.objects.create(
        case=CaseFactory(organisation=network["yorozu-13"]),
        from_organisation=network["yorozu-13"],
        to_organisation=network["jpaa-kanto"],
        sent_by=coordinator.user,
        reason="y",
        status="accepted",
        respond_by=case.opened_on,
    )
    # Closed referrals do not count.
    Referral.objects.create(
        case=CaseFactory(organisation=network["yorozu-13"]),
        from_organisation=network["yorozu-13"],
        to_organisation=network["jpaa-kanto"],
        sent_by=coordinator.user,
        reason="z",
        status="completed",
        respond_by=case.opened_on,
    )
    full = referral_suggestions(coordinator, case, ["patent", "drafting"])
    jpaa = next(s for s in full if s.organisation.code == "jpaa-kanto")
    assert jpaa.open_count == 2
    assert jpaa.reason.endswith("受入上限（2/2件）")
    assert full[0].organisation.code != "jpaa-kanto"


def test_without_topics_the_cases_consultation_topics_are_used(network):
    coordinator, case = a_case(network)
    consultation = ConsultationFactory(case=case, author=coordinator.user)
    consultation.topics.create(topic="trade_secret")

    suggestions = referral_suggestions(coordinator, case, [])

    assert suggestions[0].organisation.code == "inpit-expert-trade-secret"


def test_unknown_or_missing_topics_are_refused(network):
    coordinator, case = a_case(network)

    with pytest.raises(ValidationFailed) as unknown:
        referral_suggestions(coordinator, case, ["astrology"])
    assert unknown.value.field == "topics"
    with pytest.raises(ValidationFailed):
        referral_suggestions(coordinator, case, [])


def test_a_case_the_actor_cannot_see_gets_no_suggestions(network):
    _owner, case = a_case(network)
    stranger = make_actor("yorozu-27", "coordinator")

    with pytest.raises(NotVisible):
        referral_suggestions(stranger, case, ["patent"])


# --- API ------------------------------------------------------------------


def test_the_api_lists_suggestions_with_their_reasons(api, network):
    coordinator, case = a_case(network)

    response = api(coordinator).get(
        f"/api/v1/cases/{case.pk}/referral-suggestions/",
        {"topics": "trade_secret,contract"},
    )

    assert response.status_code == 200, response.content
    first = response.json()[0]
    assert first == {
        "organisation": "inpit-expert-trade-secret",
        "organisation_name": "知財戦略エキスパート 営業秘密支援窓口",
        "kind": "inpit_expert_window",
        "prefecture": "13",
        "score": first["score"],
        "reason": "営業秘密の専門窓口・契約も対応・全国対応",
        "matched": ["trade_secret", "contract"],
        "open_count": 0,
        "capacity": 15,
        "experts": [],  # the seeds have no expert memberships
    }


def test_the_api_answers_400_for_a_bad_topic_and_404_for_an_invisible_case(
    api, network
):
    coordinator, case = a_case(network)
    stranger = make_actor("yorozu-27", "coordinator")
    url = f"/api/v1/cases/{case.pk}/referral-suggestions/"

    bad = api(coordinator).get(url, {"topics": "patent,astrology"})
    assert bad.status_code == 400
    assert "astrology" in bad.json()["topics"][0]
    assert api(stranger).get(url, {"topics": "patent"}).status_code == 404


# --- Experts ----------------------------------------------------------------


def _expert(code: str, username: str, tags: list[str], capacity: int = 3):
    actor = make_actor(code, "expert", username=username)
    membership = actor.membership
    membership.capacity = capacity
    membership.save(update_fields=["capacity"])
    membership.expertise.set(ExpertiseTag.objects.filter(slug__in=tags))
    return actor


def test_experts_of_a_suggested_organisation_ranked_by_fit_then_room(network):
    coordinator, case = a_case(network)
    desk = "inpit-expert-trade-secret"
    both = _expert(desk, "secret-and-contract", ["trade_secret", "contract"])
    busy = _expert(desk, "secret-busy", ["trade_secret"], capacity=2)
    free = _expert(desk, "secret-free", ["trade_secret"], capacity=2)
    _expert(desk, "only-design", ["design"])  # does not fit: never suggested
    for _ in range(2):  # busy is at capacity with two open cases
        CaseFactory(organisation=network[desk], assignee=busy.user)
    CaseFactory(organisation=network[desk], assignee=free.user, status="closed")

    suggestions = referral_suggestions(
        coordinator, case, ["trade_secret", "contract"]
    )
    top = next(s for s in suggestions if s.organisation.code == desk)
    assert [e.membership.user.username for e in top.experts] == [
        both.user.username,
        free.user.username,
        busy.user.username,
    ]
    assert top.experts[0].matched == ("trade_secret", "contract")
    assert top.experts[1].reason.endswith("担当中 0/2件")
    assert top.experts[2].reason.endswith("担当中 2/2件（受入上限）")


def test_the_api_names_the_experts_of_each_suggestion(api, network):
    coordinator, case = a_case(network)
    expert = _expert("inpit-expert-trade-secret", "secret-api", ["trade_secret"])

    body = (
        api(coordinator)
        .get(
            f"/api/v1/cases/{case.pk}/referral-suggestions/", {"topics": "trade_secret"}
        )
        .json()
    )

    desk = next(s for s in body if s["organisation"] == "inpit-expert-trade-secret")
    assert desk["experts"] == [
        {
            "user": expert.user.pk,
            "name": "secret-api",
            "matched": ["trade_secret"],
            "open_count": 0,
            "capacity": 3,
            "reason": "営業秘密が専門・担当中 0/3件",
        }
    ]
