"""The case list (/cases/) and closing / reopening a case in the web UI (issue 17).

The list shows only visible cases, filtered by tab (mine, my organisation's,
all), status, company and assignee, in keyset pages. Closing and reopening
are the owning organisation's coordinators, managers and org admins (DESIGN.md
"Who may change what" rule 4): window staff see no button, and a crafted
POST gets the 403 page and changes nothing. A closed case refuses new
consultations with the service's message and offers to reopen.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEvent, Case, Consultation
from crm.web import cases as web_cases
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CaseFactory, CompanyFactory

pytestmark = pytest.mark.django_db

CLOSED_MESSAGE = (
    "この案件は完了しています。相談を記録するには、案件を再開してください。"
)


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


@pytest.fixture
def coordinator_a(network):
    return make_actor(ORG_A, "coordinator", username="cases-coord-a")


def case_ids(response) -> list[int]:
    assert response.status_code == 200, response.status_code
    return [int(i) for i in re.findall(r'id="case-(\d+)"', response.content.decode())]


def open_case(**kwargs) -> Case:
    kwargs.setdefault("opened_on", timezone.localdate() - dt.timedelta(days=3))
    return CaseFactory(**kwargs)


# --- the list -----------------------------------------------------------------


def test_the_list_shows_my_cases_first_and_my_organisations_on_its_tab(
    staff_a, staff_a2, staff_b
):
    mine = open_case(assignee=staff_a.user, title="自分の案件")
    colleagues = open_case(assignee=staff_a2.user, title="同僚の案件")
    other_org = open_case(
        organisation=staff_b.organisation, assignee=staff_b.user, title="他機関の案件"
    )
    client = client_for(staff_a)

    page = client.get(reverse("crm:case-list"))
    assert case_ids(page) == [mine.pk]
    assert "自分の案件" in page.content.decode()

    org = client.get(reverse("crm:case-list"), {"scope": "organisation"})
    assert sorted(case_ids(org)) == sorted([mine.pk, colleagues.pk])
    # "All I may see" still leaves out another organisation's case.
    everything = client.get(reverse("crm:case-list"), {"scope": "all"})
    assert other_org.pk not in case_ids(everything)
    assert (
        client_for(staff_b)
        .get(reverse("crm:case-list"), {"scope": "all"})
        .content.decode()
        .count(f'id="case-{other_org.pk}"')
        == 1
    )


def test_the_list_filters_by_status_company_and_assignee(staff_a, staff_a2):
    company = CompanyFactory(name="株式会社フィルタ電機", name_kana="フィルタデンキ")
    open_one = open_case(company=company, assignee=staff_a.user)
    closed_one = open_case(
        company=company,
        assignee=staff_a2.user,
        status="closed",
        closed_on=timezone.localdate(),
    )
    elsewhere = open_case(assignee=staff_a2.user)
    client = client_for(staff_a)
    url = reverse("crm:case-list")

    base = {"scope": "organisation"}
    assert sorted(case_ids(client.get(url, base))) == sorted(
        [open_one.pk, elsewhere.pk]
    )
    closed = case_ids(client.get(url, {**base, "status": "closed"}))
    assert closed == [closed_one.pk]
    both = case_ids(client.get(url, {**base, "status": "all", "company": "フィルタ"}))
    assert sorted(both) == sorted([open_one.pk, closed_one.pk])
    by_id = case_ids(client.get(url, {**base, "status": "all", "company": company.pk}))
    assert sorted(by_id) == sorted([open_one.pk, closed_one.pk])
    by_assignee = case_ids(
        client.get(url, {**base, "status": "all", "assignee": staff_a2.user.pk})
    )
    assert sorted(by_assignee) == sorted([closed_one.pk, elsewhere.pk])


def test_the_assignee_filter_offers_only_my_organisations_members(staff_a, staff_b):
    page = client_for(staff_a).get(reverse("crm:case-list")).content.decode()
    assert f'value="{staff_a.user.pk}"' in page
    assert f'value="{staff_b.user.pk}"' not in page
    # Someone else's member is not a valid choice: the filter is dropped,
    # never a 500.
    other = open_case(organisation=staff_b.organisation, assignee=staff_b.user)
    response = client_for(staff_a).get(
        reverse("crm:case-list"), {"scope": "all", "assignee": staff_b.user.pk}
    )
    assert other.pk not in case_ids(response)


def test_the_list_pages_by_keyset_with_a_next_link(staff_a, monkeypatch):
    monkeypatch.setattr(web_cases, "PAGE_SIZE", 2)
    today = timezone.localdate()
    cases = [
        open_case(assignee=staff_a.user, opened_on=today - dt.timedelta(days=d))
        for d in (1, 2, 2, 5, 9)
    ]
    # Newest first; the same day by id, newest first.
    expected = [cases[0].pk, cases[2].pk, cases[1].pk, cases[3].pk, cases[4].pk]
    client = client_for(staff_a)
    seen: list[int] = []
    url = reverse("crm:case-list")
    pages = 0
    while url:
        response = client.get(url)
        seen += case_ids(response)
        pages += 1
        found = re.search(
            r'href="(\?[^"]*after=[^"]*)" rel="next"', response.content.decode()
        )
        url = (
            reverse("crm:case-list") + found.group(1).replace("&amp;", "&")
            if found
            else ""
        )
    assert seen == expected
    assert pages == 3
    # A case opened meanwhile on page one does not shift the later pages.
    response = client.get(
        reverse("crm:case-list"),
        {"after": f"{cases[2].opened_on.isoformat()}.{cases[2].pk}"},
    )
    assert case_ids(response) == [cases[1].pk, cases[3].pk]


def test_a_broken_cursor_is_a_400_page_not_a_500(staff_a):
    response = client_for(staff_a).get(reverse("crm:case-list"), {"after": "x.'1"})
    assert response.status_code == 400
    assert "ページの指定が正しくありません" in response.content.decode()


def test_the_header_links_the_case_list(staff_a):
    page = client_for(staff_a).get(reverse("home")).content.decode()
    assert f'href="{reverse("crm:case-list")}"' in page


# --- close and reopen ---------------------------------------------------------


def test_a_coordinator_closes_a_case_with_a_note_and_reopens_it(coordinator_a, staff_a):
    case = open_case(assignee=staff_a.user)
    client = client_for(coordinator_a)
    page = client.get(reverse("crm:case-detail", args=[case.pk])).content.decode()
    assert "案件を完了にする" in page

    refused = client.post(reverse("crm:case-close", args=[case.pk]), {"close-note": ""})
    assert refused.status_code == 400
    assert "完了メモを入力してください。" in refused.content.decode()
    assert Case.objects.get(pk=case.pk).status == "open"

    done = client.post(
        reverse("crm:case-close", args=[case.pk]),
        {"close-note": "出願を終え、支援を完了。"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.status == "closed"
    assert case.closing_note == "出願を終え、支援を完了。"
    assert case.closed_by == coordinator_a.user
    body = done.content.decode()
    assert "案件を完了にしました。" in body
    assert "出願を終え、支援を完了。" in body
    assert "案件を再開する" in body
    # The 「＋ 相談を記録」 of the case is gone (the header keeps its own).
    assert f"?company={case.company_id}&amp;case={case.pk}" not in body

    client.post(
        reverse("crm:case-reopen", args=[case.pk]), {"reopen-note": "追加の相談"}
    )
    case.refresh_from_db()
    assert case.status == "open"
    assert case.closed_on is None
    assert list(
        AuditEvent.objects.filter(
            object_id=str(case.pk), action__in=["case.close", "case.reopen"]
        )
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["case.close", "case.reopen"]


def test_window_staff_see_no_close_button_and_a_crafted_post_is_403(staff_a):
    case = open_case(assignee=staff_a.user)
    client = client_for(staff_a)
    page = client.get(reverse("crm:case-detail", args=[case.pk])).content.decode()
    assert "案件を完了にする" not in page
    assert reverse("crm:case-close", args=[case.pk]) not in page

    response = client.post(
        reverse("crm:case-close", args=[case.pk]), {"close-note": "勝手に完了"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "open" and case.closing_note == ""

    case.status, case.closed_on = "closed", timezone.localdate()
    case.save()
    page = client.get(reverse("crm:case-detail", args=[case.pk])).content.decode()
    assert "案件を再開する" not in page
    assert client.post(reverse("crm:case-reopen", args=[case.pk])).status_code == 403
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_another_organisations_manager_cannot_close_what_it_does_not_see(network):
    case = open_case()
    outsider = make_actor(ORG_B, "manager", username="cases-manager-b")
    response = client_for(outsider).post(
        reverse("crm:case-close", args=[case.pk]), {"close-note": "x"}
    )
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == "open"


def test_a_closed_case_refuses_a_consultation_and_offers_to_reopen(
    staff_a, coordinator_a
):
    case = open_case(assignee=staff_a.user)
    case.status, case.closed_on = "closed", timezone.localdate()
    case.save()
    url = reverse("crm:consultation-create")
    query = {"company": case.company_id, "case": case.pk}
    reopen_link = f"{reverse('crm:case-detail', args=[case.pk])}#case-status"

    for_staff = client_for(staff_a).get(url, query).content.decode()
    assert CLOSED_MESSAGE in for_staff
    assert reopen_link not in for_staff  # window staff may not reopen
    for_coordinator = client_for(coordinator_a).get(url, query).content.decode()
    assert CLOSED_MESSAGE in for_coordinator
    assert reopen_link in for_coordinator

    posted = client_for(staff_a).post(
        url,
        {
            "company": case.company_id,
            "case": case.pk,
            "occurred_on": timezone.localdate().isoformat(),
            "occurred_time": "10:00",
            "channel": "visit",
            "duration_minutes": "30",
            "topics": ["patent"],
            "summary": "完了した案件に記録しようとした",
        },
    )
    assert posted.status_code == 200
    body = posted.content.decode()
    assert CLOSED_MESSAGE in body
    assert "完了した案件に記録しようとした" in body  # nothing typed is lost
    assert not Consultation.objects.filter(case=case).exists()


def test_the_case_page_logs_a_consultation_on_that_case(staff_a):
    older = open_case(assignee=staff_a.user)
    newer = open_case(
        company=older.company, opened_on=timezone.localdate(), assignee=staff_a.user
    )
    page = client_for(staff_a).get(reverse("crm:case-detail", args=[older.pk]))
    link = f"?company={older.company_id}&amp;case={older.pk}"
    assert link in page.content.decode()
    form = client_for(staff_a).get(
        reverse("crm:consultation-create"),
        {"company": older.company_id, "case": older.pk},
    )
    assert f'<option value="{older.pk}" selected>' in form.content.decode()
    assert newer.pk != older.pk
