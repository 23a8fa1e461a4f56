"""The web UI of window staff: my work, company search, consultation form, timeline."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEvent, Case, Company, Consultation, FollowUp, Outcome
from tests.crm.factories import (
    CaseFactory,
    CompanyFactory,
    ConsultationFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


class _Inputs(HTMLParser):
    """Collect the checked inputs and the error paragraphs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: list[tuple[str, str]] = []
        self.errors: dict[str, list[str]] = {}
        self._error_of: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and "checked" in attrs:
            self.checked.append((attrs.get("name") or "", attrs.get("value") or ""))
        if tag == "p" and "error" in (attrs.get("class") or "").split():
            self._error_of = (attrs.get("id") or "").removesuffix("_error")

    def handle_data(self, data):
        if self._error_of is not None and data.strip():
            self.errors.setdefault(self._error_of, []).append(data.strip())

    def handle_endtag(self, tag):
        if tag == "p":
            self._error_of = None


def checked_values(html: str, name: str) -> set[str]:
    """Return the values of the checked inputs called name."""
    parser = _Inputs()
    parser.feed(html)
    return {value for n, value in parser.checked if n == name}


def field_errors(html: str, field_id: str) -> list[str]:
    """Return the error messages shown for the field with that id."""
    parser = _Inputs()
    parser.feed(html)
    return parser.errors.get(field_id, [])


def consultation_post(company, **overrides):
    today = timezone.localdate()
    data = {
        "company": company.pk if company else "",
        "case": "",
        "occurred_on": today.isoformat(),
        "occurred_time": "10:00",
        "channel": "visit",
        "duration_minutes": "45",
        "topics": ["patent", "trademark"],
        "ip_types": ["patent"],
        "summary": "新製品の出願について相談",
        "advice": "先行技術調査を勧めた",
        "next_action": "調査結果を確認",
        "follow_up_on": (today + dt.timedelta(days=7)).isoformat(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- my work -----------------------------------------------------------------


def test_my_work_lists_own_overdue_and_today_follow_ups_only(staff_a, staff_a2):
    today = timezone.localdate()
    case = CaseFactory(created_by=staff_a.user, assignee=staff_a.user)
    FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=staff_a.user,
        due_on=today - dt.timedelta(days=3),
        note="見積もりの確認",
    )
    FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=staff_a.user,
        due_on=today,
        note="出願書類の確認",
    )
    FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=staff_a2.user,
        due_on=today,
        note="同僚の仕事",
    )

    page = client_for(staff_a).get(reverse("home")).content.decode()

    assert "見積もりの確認" in page
    assert "期限超過 1件" in page
    assert "出願書類の確認" in page
    assert "今日 1件" in page
    assert "同僚の仕事" not in page


def test_my_work_shows_referrals_waiting_for_my_organisation(staff_a, staff_b, network):
    ReferralFactory(
        case=CaseFactory(company=CompanyFactory(name="株式会社紹介先テスト")),
        to_organisation=network["yorozu-27"],
    )

    page_b = client_for(staff_b).get(reverse("home")).content.decode()
    page_a = client_for(staff_a).get(reverse("home")).content.decode()

    assert "株式会社紹介先テスト" in page_b
    assert "株式会社紹介先テスト" not in page_a


def test_pages_require_login():
    response = Client().get(reverse("crm:consultation-create"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- company search and detail ----------------------------------------------


def test_company_search_finds_by_half_width_kana_fragment(staff_a):
    CompanyFactory(name="株式会社ミライ精工", name_kana="ミライセイコウ")

    response = client_for(staff_a).get(
        reverse("crm:company-search"), {"q": "ﾐﾗｲｾｲ"}
    )

    assert "株式会社ミライ精工" in response.content.decode()


def test_company_search_page_ranks_the_exact_name_first(staff_a):
    # The exact match is older, so newest-first order would put it last.
    CompanyFactory(name="株式会社ミライ精工", name_kana="ミライセイコウ")
    CompanyFactory(name="ミライ精工販売株式会社", name_kana="ミライセイコウハンバイ")

    body = (
        client_for(staff_a)
        .get(reverse("crm:company-search"), {"q": "ミライ精工"})
        .content.decode()
    )

    assert body.index("株式会社ミライ精工") < body.index("ミライ精工販売株式会社")


def test_company_search_htmx_returns_only_the_results(staff_a):
    CompanyFactory(name="株式会社ミライ精工", name_kana="ミライセイコウ")

    response = client_for(staff_a).get(
        reverse("crm:company-search"), {"q": "ミライ"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert "株式会社ミライ精工" in body
    assert "<html" not in body


def test_company_detail_hides_private_data_from_other_organisations(staff_a, staff_b):
    company = CompanyFactory(capital_yen=987_654_321)
    CaseFactory(company=company, title="秘密でない案件X")

    own = client_for(staff_a).get(reverse("crm:company-detail", args=[company.pk]))
    other = client_for(staff_b).get(reverse("crm:company-detail", args=[company.pk]))

    assert "987,654,321円" in own.content.decode()
    assert "秘密でない案件X" in own.content.decode()
    assert other.status_code == 200
    assert "987,654,321" not in other.content.decode()
    assert "987654321" not in other.content.decode()
    assert "秘密でない案件X" not in other.content.decode()


def test_company_create_shows_candidates_before_creating_a_duplicate(staff_a):
    CompanyFactory(name="株式会社サクラ技研", prefecture_id="13")
    client = client_for(staff_a)
    data = {"name": "（株）サクラ技研", "kind": "corporation", "prefecture": "13"}

    first = client.post(reverse("crm:company-create"), data)

    assert "この企業等ですか？" in first.content.decode()
    assert Company.objects.filter(name_key__contains="サクラ技研").count() == 1

    second = client.post(reverse("crm:company-create"), {**data, "confirm_new": "on"})

    assert second.status_code == 302
    assert Company.objects.filter(name_key__contains="サクラ技研").count() == 2


def test_company_create_bad_corporate_number_is_a_field_error(staff_a):
    response = client_for(staff_a).post(
        reverse("crm:company-create"),
        {
            "name": "株式会社誤番号",
            "kind": "corporation",
            "prefecture": "13",
            "corporate_number": "1234567890123",
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="株式会社誤番号"' in body
    assert "法人番号" in body and 'class="error"' in body
    assert not Company.objects.filter(name="株式会社誤番号").exists()


# --- consultation form ---------------------------------------------------------


def test_consultation_form_defaults_to_the_open_case_of_my_organisation(staff_a):
    company = CompanyFactory()
    CaseFactory(company=company, created_by=staff_a.user, title="古い案件")
    newest = CaseFactory(company=company, created_by=staff_a.user, title="最新の案件")
    CaseFactory(company=company, status="closed", title="完了した案件")

    response = client_for(staff_a).get(
        reverse("crm:consultation-create"), {"company": company.pk}
    )

    body = response.content.decode()
    assert f'<option value="{newest.pk}" selected>' in body
    assert "完了した案件" not in body
    assert timezone.localdate().isoformat() in body


def test_consultation_form_logs_with_follow_up_and_shows_it_on_the_timeline(
    staff_a, network
):
    company = CompanyFactory(name="株式会社タイムライン")
    client = client_for(staff_a)

    response = client.post(
        reverse("crm:consultation-create"),
        consultation_post(company, attendees=["yorozu-13"]),
    )

    consultation = Consultation.objects.get(company=company)
    assert response.status_code == 302
    assert response.url.endswith(
        f"/cases/{consultation.case_id}/#consultation-{consultation.pk}"
    )
    assert consultation.case.organisation.code == "inpit-window-13"
    assert sorted(t.topic for t in consultation.topics.all()) == ["patent", "trademark"]
    assert [o.code for o in consultation.attendees.all()] == ["yorozu-13"]
    follow_up = FollowUp.objects.get(case=consultation.case)
    assert follow_up.assignee == staff_a.user
    assert follow_up.due_on == timezone.localdate() + dt.timedelta(days=7)

    page = client.get(response.url).content.decode()
    assert "新製品の出願について相談" in page
    assert "調査結果を確認" in page
    assert "よろず支援拠点" in page
    assert AuditEvent.objects.filter(
        action="case.view", object_id=str(consultation.case_id)
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"topics": []}, "相談分野"),
        ({"duration_minutes": "-5"}, "所要時間"),
        ({"summary": "  "}, "相談内容"),
        (
            {"occurred_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat()},
            "未来の日付",
        ),
        ({"follow_up_on": "2000-01-01"}, "フォローアップ日"),
        ({"attendees": ["no-such-org"]}, "同席組織"),
    ],
)
def test_consultation_form_errors_keep_what_was_typed(
    staff_a, overrides, field_message
):
    company = CompanyFactory()

    response = client_for(staff_a).post(
        reverse("crm:consultation-create"), consultation_post(company, **overrides)
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="error"' in body
    assert field_message in body
    assert "調査結果を確認" in body  # next_action survived the failed submit
    assert not Consultation.objects.exists()
    assert not Case.objects.exists()


def test_consultation_form_refuses_a_case_of_another_organisation(staff_a, staff_b):
    company = CompanyFactory()
    foreign = CaseFactory(company=company, organisation=staff_b.organisation)

    response = client_for(staff_a).post(
        reverse("crm:consultation-create"),
        consultation_post(company, case=str(foreign.pk)),
    )

    assert response.status_code == 200
    assert not Consultation.objects.exists()


def test_consultation_without_company_asks_to_pick_one(staff_a):
    CompanyFactory(name="株式会社ヒカリ電機", name_kana="ヒカリデンキ")

    response = client_for(staff_a).post(
        reverse("crm:consultation-create"),
        consultation_post(None, company_q="ひかり"),
    )

    body = response.content.decode()
    assert "企業等を選んでください" in body
    assert "株式会社ヒカリ電機" in body  # the server-side match list (no JavaScript)
    assert not Consultation.objects.exists()


def test_inline_new_company_is_created_with_the_consultation(staff_a):
    response = client_for(staff_a).post(
        reverse("crm:consultation-create"),
        consultation_post(
            None,
            **{
                "new-name": "株式会社インライン新規",
                "new-name_kana": "インラインシンキ",
                "new-kind": "corporation",
                "new-prefecture": "13",
            },
        ),
    )

    assert response.status_code == 302
    company = Company.objects.get(name="株式会社インライン新規")
    assert company.registered_by == staff_a.organisation
    assert Consultation.objects.get().company == company


def test_inline_new_company_duplicate_asks_this_company_and_picks_it(staff_a):
    existing = CompanyFactory(name="株式会社サクラ技研", prefecture_id="13")
    client = client_for(staff_a)
    data = consultation_post(
        None,
        **{"new-name": "㈱サクラ技研", "new-kind": "corporation", "new-prefecture": "13"},
    )

    asked = client.post(reverse("crm:consultation-create"), data)

    body = asked.content.decode()
    assert "この企業等ですか？" in body
    assert f'name="pick_company" value="{existing.pk}"' in body
    assert Company.objects.count() == 1
    assert not Consultation.objects.exists()

    picked = client.post(
        reverse("crm:consultation-create"),
        {**data, "pick_company": str(existing.pk)},
    )
    body = picked.content.decode()
    assert f'id="id_company" value="{existing.pk}"' in body
    assert "新製品の出願について相談" in body
    # What was typed before the pick is kept: both topics and the IP type.
    assert checked_values(body, "topics") == {"patent", "trademark"}
    assert checked_values(body, "ip_types") == {"patent"}
    assert not Consultation.objects.exists()


def test_duplicate_number_error_links_to_the_registered_company(staff_a):
    existing = CompanyFactory(corporate_number="1180301018771")
    response = client_for(staff_a).post(
        reverse("crm:consultation-create"),
        consultation_post(
            None,
            **{
                "new-name": "株式会社番号重複",
                "new-kind": "corporation",
                "new-prefecture": "13",
                "new-corporate_number": "1180301018771",
            },
        ),
    )

    body = response.content.decode()
    url = reverse("crm:company-detail", args=[existing.pk])
    assert f'<a href="{url}">' in body
    assert f": {url}" not in body  # not the path as text


def test_inline_new_company_with_bad_number_writes_nothing(staff_a):
    response = client_for(staff_a).post(
        reverse("crm:consultation-create"),
        consultation_post(
            None,
            **{
                "new-name": "株式会社番号違い",
                "new-kind": "corporation",
                "new-prefecture": "13",
                "new-corporate_number": "1180301018772",
            },
        ),
    )

    assert response.status_code == 200
    # The check-digit message, beside the inline company's number field.
    assert field_errors(response.content.decode(), "id_new-corporate_number") == [
        "法人番号のチェックデジットが正しくありません。番号を確認してください。"
    ]
    assert not Company.objects.filter(name="株式会社番号違い").exists()
    assert not Consultation.objects.exists()


def test_failed_consultation_rolls_back_the_inline_company(staff_a):
    response = client_for(staff_a).post(
        reverse("crm:consultation-create"),
        consultation_post(
            None,
            duration_minutes="9999",
            **{
                "new-name": "株式会社ロールバック",
                "new-kind": "corporation",
                "new-prefecture": "13",
            },
        ),
    )

    assert response.status_code == 200
    assert "所要時間" in response.content.decode()
    assert not Company.objects.filter(name="株式会社ロールバック").exists()


def test_consultation_form_for_an_unknown_company_is_404(staff_a):
    response = client_for(staff_a).get(
        reverse("crm:consultation-create"), {"company": 999_999}
    )

    assert response.status_code == 404


# --- case timeline ------------------------------------------------------------


def test_case_of_another_organisation_is_404(staff_a, staff_b):
    case = CaseFactory(created_by=staff_a.user)

    response = client_for(staff_b).get(reverse("crm:case-detail", args=[case.pk]))

    assert response.status_code == 404


def test_timeline_hides_a_confidential_consultation_from_other_staff(
    staff_a, staff_a2
):
    case = CaseFactory(created_by=staff_a.user, assignee=staff_a.user)
    ConsultationFactory(case=case, summary="普通の相談")
    ConsultationFactory(
        case=case, summary="営業秘密の相談", is_confidential=True, author=staff_a.user
    )

    own = client_for(staff_a).get(reverse("crm:case-detail", args=[case.pk]))
    colleague = client_for(staff_a2).get(reverse("crm:case-detail", args=[case.pk]))

    assert "営業秘密の相談" in own.content.decode()
    assert "普通の相談" in colleague.content.decode()
    assert "営業秘密の相談" not in colleague.content.decode()


def test_timeline_lists_the_companys_other_visible_cases(staff_a, staff_b):
    company = CompanyFactory()
    case = CaseFactory(company=company, created_by=staff_a.user)
    CaseFactory(company=company, created_by=staff_a.user, title="同じ企業の別案件")
    CaseFactory(company=company, organisation=staff_b.organisation, title="他機関の案件")

    body = (
        client_for(staff_a)
        .get(reverse("crm:case-detail", args=[case.pk]))
        .content.decode()
    )

    assert "同じ企業の別案件" in body
    assert "他機関の案件" not in body


def test_outcome_form_records_a_filing(staff_a):
    case = CaseFactory(created_by=staff_a.user)
    client = client_for(staff_a)

    response = client.post(
        reverse("crm:outcome-create", args=[case.pk]),
        {
            "kind": "filing",
            "ip_type": "patent",
            "occurred_on": timezone.localdate().isoformat(),
            "reference": "特願2026-012345",
        },
    )

    assert response.status_code == 302
    outcome = Outcome.objects.get(case=case)
    assert outcome.reference == "特願2026-012345"
    assert "特願2026-012345" in client.get(response.url).content.decode()


def test_outcome_form_filing_without_number_is_refused(staff_a):
    case = CaseFactory(created_by=staff_a.user)

    response = client_for(staff_a).post(
        reverse("crm:outcome-create", args=[case.pk]),
        {"kind": "filing", "occurred_on": timezone.localdate().isoformat()},
    )

    assert response.status_code == 400
    assert "番号" in response.content.decode()
    assert not Outcome.objects.exists()


def test_follow_up_complete_from_my_work(staff_a):
    case = CaseFactory(created_by=staff_a.user)
    follow_up = FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=staff_a.user,
        due_on=timezone.localdate(),
    )

    response = client_for(staff_a).post(
        reverse("crm:follow-up-complete", args=[follow_up.pk])
    )

    follow_up.refresh_from_db()
    assert response.status_code == 302
    assert follow_up.status == "done"


def test_follow_up_of_another_organisation_cannot_be_completed(staff_a, staff_b):
    case = CaseFactory(created_by=staff_a.user)
    follow_up = FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=staff_a.user,
        due_on=timezone.localdate(),
    )

    response = client_for(staff_b).post(
        reverse("crm:follow-up-complete", args=[follow_up.pk])
    )

    follow_up.refresh_from_db()
    assert response.status_code == 404
    assert follow_up.status == "open"


def test_organisation_switch_changes_the_acting_organisation(network):
    from tests.conftest import make_actor

    actor = make_actor("inpit-window-13", "window_staff", username="two-hats")
    second = make_actor("yorozu-13", "window_staff", username="two-hats")
    case = CaseFactory(organisation=network["yorozu-13"], created_by=actor.user)
    client = client_for(second)

    before = client.get(reverse("crm:case-detail", args=[case.pk]))
    client.post(reverse("organisation-switch"), {"organisation": "yorozu-13"})
    after = client.get(reverse("crm:case-detail", args=[case.pk]))

    assert before.status_code == 404
    assert after.status_code == 200
