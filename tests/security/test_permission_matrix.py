"""Permission matrix: every API endpoint, as every role of an unrelated organisation.

Organisation A (INPIT 東京都窓口) holds one of everything: a company with
non-public data, a case with a network-wide consent, a consultation, a
contact, a follow-up, an outcome, a referral to よろず 大阪 with its APPI
provision record, an enrolment, a notification, an export and an audit
event. Every role of よろず支援拠点 沖縄 — no hub of 東京都, never referred
to — and a coordinator of 沖縄総合事務局 (a hub, of another region) then
call every endpoint the API has (DRF's endpoint enumerator, the
one the OpenAPI schema is built from, so a new endpoint is covered the day
it is added: the test fails until `RULES` says what it must answer).

What must hold (DESIGN.md "Who sees what" rule 5): details and actions on
A's objects answer 404 (403 where the role may not use the endpoint at
all), lists and statistics come back empty, company master data shows only
its public fields, writes that name A's objects are refused, and no answer
carries any of A's private text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.views import APIView

from crm.models import (
    AuditEvent,
    Consent,
    Consultation,
    Contact,
    Export,
    Notification,
    Outcome,
    ProvisionRecord,
    Referral,
)
from crm.serializers.companies import PRIVATE_COMPANY_FIELDS
from crm.services.audit import audit_record
from crm.services.cases import outcome_record
from crm.services.consents import consent_record
from crm.services.consultations import consultation_create
from crm.services.contacts import contact_create
from crm.services.referrals import referral_send
from programs.models import Enrolment
from support_network.models import Membership, Organisation
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CompanyFactory
from tests.programs.factories import EnrolmentFactory

UNRELATED = "yorozu-47"  # よろず支援拠点 沖縄県: no hub of 東京都, no referral
ROLES = ["window_staff", "coordinator", "manager", "org_admin", "expert"]

# Text only A's private records carry: no answer to an outsider may contain it.
SECRET_TITLE = "秘密案件タイトル"
SECRET_SUMMARY = "秘密の相談内容ＸＹＺ"
SECRET_CONTACT = "秘密 担当者"
SECRET_NOTE = "秘密の成果メモ"
SECRET_REASON = "秘密の紹介理由"
SECRETS = (SECRET_TITLE, SECRET_SUMMARY, SECRET_CONTACT, SECRET_NOTE, SECRET_REASON)


@dataclass
class Foreign:
    """A's objects, by the name the URL rules use."""

    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


@pytest.fixture
def foreign(network) -> Foreign:
    owner = make_actor(ORG_A, "window_staff", username="owner-a")
    make_actor(ORG_B, "window_staff", username="receiver-b")
    company = CompanyFactory(
        name="株式会社東京秘密工業",
        registered_by=Organisation.objects.get(code=ORG_A),
        capital_yen=12_345_678,
        employees=42,
    )
    consent = consent_record(
        actor=owner,
        company=company,
        scope="network",
        obtained_on=timezone.localdate(),
        method="written",
    )
    contact = contact_create(
        actor=owner, company=company, name=SECRET_CONTACT, email="himitsu@example.jp"
    )
    consultation = consultation_create(
        actor=owner,
        company=company,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        channel="visit",
        duration_minutes=30,
        topics=["patent"],
        summary=SECRET_SUMMARY,
        next_action="先行技術調査",
        follow_up_on=timezone.localdate() + dt.timedelta(days=7),
    )
    case = consultation.case
    case.title = SECRET_TITLE
    case.save(update_fields=["title"])
    outcome = outcome_record(
        actor=owner,
        case=case,
        kind="filing",
        occurred_on=timezone.localdate(),
        reference="特願2025-000001",
        note=SECRET_NOTE,
    )
    referral = referral_send(
        actor=owner,
        case=case,
        to_organisation=Organisation.objects.get(code=ORG_B),
        reason=SECRET_REASON,
        topics=["patent"],
    )
    enrolment = EnrolmentFactory(company=company)
    notification = Notification.objects.create(
        recipient=owner.user,
        kind="test",
        message=SECRET_SUMMARY,
        object_type="case",
        object_id=str(case.pk),
    )
    export = Export.objects.create(
        requested_by=owner.user,
        organisation=owner.organisation,
        role=owner.role,
        kind=Export.Kind.CONSULTATIONS,
        fiscal_year=2025,
        format=Export.Format.CSV,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    audit_record(actor=owner, action="case.view", obj=case)
    # A's event (public facts) with a registration only its hosts may see,
    # A's import and A's answered survey (its comment for A's managers only).
    from crm.models import Import, Survey
    from crm.services.events import attendee_register, event_create

    event = event_create(
        actor=owner,
        title="東京の知財セミナー",
        kind="seminar",
        starts_at=timezone.now() + dt.timedelta(days=10),
        is_online=True,
    )
    attendee = attendee_register(
        actor=owner, event=event, company=company, contact_name=SECRET_CONTACT
    )
    imported = Import.objects.create(
        organisation=owner.organisation,
        requested_by=owner.user,
        file_name="secret.csv",
        content=SECRET_NOTE.encode(),
        status=Import.Status.READY,
    )
    survey = Survey.objects.create(
        organisation=owner.organisation,
        company=company,
        source="consultation",
        consultation=consultation,
        due_on=timezone.localdate(),
        fiscal_year=2026,
        status="answered",
        score=5,
        comment=SECRET_NOTE,
    )
    return Foreign(
        ids={
            "company": company.pk,
            "case": case.pk,
            "consultation": consultation.pk,
            "contact": contact.pk,
            "consent": consent.pk,
            "follow_up": case.follow_ups.get().pk,
            "outcome": outcome.pk,
            "referral": referral.pk,
            "provision_record": ProvisionRecord.objects.get(referral=referral).pk,
            "enrolment": enrolment.pk,
            "notification": notification.pk,
            "export": export.pk,
            "audit_event": AuditEvent.objects.get(action="case.view").pk,
            "membership": Membership.objects.get(user=owner.user).pk,
            "event": event.pk,
            "attendee": attendee.pk,
            "import": imported.pk,
            "survey": survey.pk,
        }
    )


# --- The rules --------------------------------------------------------------------
#
# Each rule: a regular expression over "METHOD /path/template/", the object
# that fills {pk} (None: no object), the request body, and what must hold.

HIDDEN = {403, 404}  # 404 for an object; 403 where the role may not use it at all
REFUSED = {400, 403, 404}  # a write naming A's objects: refused, never done


@dataclass(frozen=True)
class Rule:
    pattern: str  # over "METHOD /path/template/"
    expect: str  # hidden | refused | public | public_facts | own | own_or_forbidden | empty_list | company | company_list | csv | statistics
    obj: str | None = None  # the object of A whose id fills {pk}
    body: object = None  # a dict, a function of Foreign, or "assignee"
    cid: str | None = None  # the object of A whose id fills {cid}


def _consultation_body(f: Foreign) -> dict:
    return {
        "company": f["company"],
        "case": f["case"],
        "occurred_at": timezone.now().isoformat(),
        "channel": "visit",
        "duration_minutes": 10,
        "topics": ["patent"],
        "summary": "他組織の案件に記録しようとする",
    }


def _outcome_body(f: Foreign) -> dict:
    return {"case": f["case"], "kind": "filing", "occurred_on": "2025-05-01"}


def _referral_body(f: Foreign) -> dict:
    return {
        "case": f["case"],
        "to_organisation": UNRELATED,
        "reason": "横取り",
        "topics": ["patent"],
    }


def _enrolment_body(f: Foreign) -> dict:
    return {"program": "ipas", "fiscal_year": 2030, "company": f["company"]}


def _estimate_body(f: Foreign) -> dict:
    return {
        "company": f["company"],
        "fiscal_year": 2025,
        "items": [{"right": "patent", "cost_yen": 1_000_000}],
    }


NETWORK = r"(prefectures|organisations|programs)"
TRANSITIONS = r"(accept|decline|complete|cancel|assign)"
ENROLMENT_ACTIONS = r"(transition|plan|support-days)"
ANY_BODY = {
    "note": "x",
    "outcome_note": "x",
    "status": "screening",
    "goals": "x",
    "date": "2025-05-01",
    "days": 1,
    "assignee": 1,
}

RULES: list[Rule] = [
    # Reference data of the network, the schema and the docs: public.
    Rule(rf"GET /api/v1/{NETWORK}/", "public"),
    Rule(rf"GET /api/v1/{NETWORK}/{{code}}/", "public"),
    Rule(r"GET /api/(schema|docs)/", "public"),
    Rule(r"POST /api/v1/auth/token/", "refused", body={}),
    Rule(r"POST /api/v1/auth/password/reset/", "refused", body={}),
    # Accounts are the acting organisation's (org admins only).
    Rule(r"GET /api/v1/members/", "own_members"),
    Rule(r"POST /api/v1/members/", "refused", body={}),
    Rule(r"PATCH /api/v1/members/{pk}/", "hidden", "membership", {"role": "manager"}),
    Rule(r"POST /api/v1/members/{pk}/unlock/", "hidden", "membership", {}),
    # One's own login (support_network/views/auth.py): they act on the caller
    # alone. Revoke needs a token (a session gets 400); the others refuse an
    # empty body; starting a TOTP enrolment is the caller's own (201).
    Rule(r"POST /api/v1/auth/token/revoke/", "refused", body={}),
    Rule(r"POST /api/v1/auth/password/change/", "refused", body={}),
    Rule(r"POST /api/v1/auth/mfa/totp/confirm/", "refused", body={}),
    Rule(r"POST /api/v1/auth/mfa/totp/", "own"),
    # Company master data is shared (rule 2); the rest of the company is not.
    Rule(r"GET /api/v1/companies/", "company_list"),
    Rule(r"GET /api/v1/companies/{pk}/", "company", obj="company"),
    Rule(r"PATCH /api/v1/companies/{pk}/", "refused", "company", {"city": "那覇市"}),
    Rule(r"GET /api/v1/companies/{pk}/(consents|contacts)/", "empty_list", "company"),
    # Recording one's own consent or contact for a shared company is allowed;
    # an empty body only shows that the endpoint answers without leaking.
    Rule(r"POST /api/v1/companies/{pk}/(consents|contacts)/", "refused", "company", {}),
    Rule(
        r"POST /api/v1/companies/{pk}/consents/{cid}/withdraw/",
        "hidden",
        "company",
        {},
        cid="consent",
    ),
    # Merging duplicates is master-data work of coordinators and org admins
    # network-wide (crm/services/merge.py); without a target it is refused.
    Rule(r"POST /api/v1/companies/{pk}/merge/", "refused", "company", {}),
    Rule(r"POST /api/v1/companies/", "refused", body={}),
    # Cases and everything in them.
    Rule(r"GET /api/v1/cases/", "empty_list"),
    Rule(r"GET /api/v1/cases/{pk}/", "hidden", "case"),
    Rule(r"GET /api/v1/cases/{pk}/referral-suggestions/", "hidden", "case"),
    Rule(r"POST /api/v1/cases/{pk}/assign/", "hidden", "case", "assignee"),
    Rule(r"POST /api/v1/cases/{pk}/(close|reopen)/", "hidden", "case", {}),
    Rule(r"GET /api/v1/consultations/", "empty_list"),
    Rule(r"GET /api/v1/consultations/{pk}/", "hidden", "consultation"),
    Rule(
        r"PATCH /api/v1/consultations/{pk}/", "hidden", "consultation", {"summary": "x"}
    ),
    Rule(r"DELETE /api/v1/consultations/{pk}/", "hidden", "consultation", {}),
    Rule(r"POST /api/v1/consultations/", "refused", body=_consultation_body),
    Rule(r"GET /api/v1/contacts/{pk}/", "hidden", "contact"),
    Rule(r"PATCH /api/v1/contacts/{pk}/", "hidden", "contact", {"name": "上書き"}),
    Rule(r"DELETE /api/v1/contacts/{pk}/", "hidden", "contact"),
    Rule(r"GET /api/v1/follow-ups/", "empty_list"),
    Rule(r"GET /api/v1/follow-ups/{pk}/", "hidden", "follow_up"),
    Rule(r"POST /api/v1/follow-ups/{pk}/complete/", "hidden", "follow_up", {}),
    Rule(r"PATCH /api/v1/follow-ups/{pk}/", "hidden", "follow_up", {"note": "x"}),
    Rule(r"GET /api/v1/outcomes/", "empty_list"),
    Rule(r"GET /api/v1/outcomes/{pk}/", "hidden", "outcome"),
    Rule(r"PATCH /api/v1/outcomes/{pk}/", "hidden", "outcome", {"note": "x"}),
    Rule(r"DELETE /api/v1/outcomes/{pk}/", "hidden", "outcome", {}),
    Rule(r"POST /api/v1/outcomes/", "refused", body=_outcome_body),
    # Referrals and APPI provision records.
    Rule(r"GET /api/v1/referrals/", "empty_list"),
    Rule(r"GET /api/v1/referrals/{pk}/", "hidden", "referral"),
    Rule(
        rf"POST /api/v1/referrals/{{pk}}/{TRANSITIONS}/", "hidden", "referral", ANY_BODY
    ),
    Rule(r"POST /api/v1/referrals/", "refused", body=_referral_body),
    Rule(r"GET /api/v1/provision-records/", "empty_list"),
    Rule(r"GET /api/v1/provision-records/csv/", "csv"),
    Rule(r"GET /api/v1/provision-records/{pk}/", "hidden", "provision_record"),
    # Programs.
    Rule(r"GET /api/v1/enrolments/", "empty_list"),
    Rule(r"GET /api/v1/enrolments/{pk}/", "hidden", "enrolment"),
    Rule(
        rf"POST /api/v1/enrolments/{{pk}}/{ENROLMENT_ACTIONS}/",
        "hidden",
        "enrolment",
        ANY_BODY,
    ),
    Rule(r"POST /api/v1/enrolments/", "refused", body=_enrolment_body),
    Rule(r"POST /api/v1/programs/{code}/estimate/", "refused", body=_estimate_body),
    # The caller's own things.
    Rule(r"GET /api/v1/notifications/", "empty_list"),
    Rule(r"GET /api/v1/notifications/{pk}/", "hidden", "notification"),
    Rule(r"POST /api/v1/notifications/{pk}/read/", "hidden", "notification", {}),
    Rule(r"GET /api/v1/exports/", "empty_list"),
    Rule(r"GET /api/v1/exports/{pk}/", "hidden", "export"),
    Rule(r"GET /api/v1/exports/{pk}/download/", "hidden", "export"),
    # Requesting an export of one's own scope is allowed; an empty body is not.
    Rule(r"POST /api/v1/exports/", "refused", body={}),
    Rule(r"GET /api/v1/audit-events/", "empty_list"),
    Rule(r"GET /api/v1/audit-events/{pk}/", "hidden", "audit_event"),
    # Personal data (APPI): on A's objects nothing is done.
    Rule(r"POST /api/v1/cases/{pk}/legal-hold/", "hidden", "case", {"on": True}),
    Rule(r"POST /api/v1/contacts/{pk}/(disclosure|erase)/", "hidden", "contact", {}),
    Rule(r"GET /api/v1/retention-policy/", "own_or_forbidden"),
    # An org admin changes only its own organisation's policy.
    Rule(r"PUT /api/v1/retention-policy/", "own_or_forbidden", body={}),
    # Events: the public facts are network-wide, registrations are the hosts'.
    Rule(r"GET /api/v1/events/", "public_facts"),
    Rule(r"POST /api/v1/events/", "refused", body={}),
    Rule(r"GET /api/v1/events/{pk}/", "public_facts", "event"),
    Rule(r"PATCH /api/v1/events/{pk}/", "hidden", "event", {"title": "上書き"}),
    Rule(r"GET /api/v1/events/{pk}/attendees/", "empty_list", "event"),
    Rule(r"POST /api/v1/events/{pk}/attendees/", "refused", "event", {}),
    Rule(
        r"POST /api/v1/events/{pk}/attendees/{aid}/attend/",
        "hidden",
        "event",
        {},
        cid="attendee",
    ),
    # Imports and surveys: the organisation's own.
    Rule(r"POST /api/v1/imports/", "refused", body={}),
    Rule(r"GET /api/v1/imports/{pk}/", "hidden", "import"),
    Rule(r"POST /api/v1/imports/{pk}/(commit|undo)/", "hidden", "import", {}),
    Rule(r"GET /api/v1/survey-settings/", "own_or_forbidden"),
    Rule(r"PUT /api/v1/survey-settings/", "refused", body={"after_consultation_business_days": "x"}),
    Rule(r"GET /api/v1/surveys/", "empty_list"),
    Rule(r"POST /api/v1/surveys/{pk}/confirm-outcome/", "hidden", "survey", {}),
    # Statistics: only the caller's reach, and A's data lies outside it.
    Rule(r"GET /api/v1/statistics/\w+/", "statistics"),
]
# Measures of statistics that are public reference data, not anyone's records.
STATISTICS_PUBLIC_MEASURES = {"capacity"}
# Path codes of the reference data and programs (`{code}` in their paths).
CODES = {"prefectures": "47", "organisations": UNRELATED, "programs": "overseas_filing"}


def api_endpoints() -> list[tuple[str, str]]:
    """Return (METHOD, path template) of every DRF endpoint, as the schema sees them."""
    endpoints = {
        (method.upper(), path)
        for path, _regex, method, _callback in EndpointEnumerator().get_api_endpoints()
    }
    return sorted(endpoints, key=lambda e: (e[1], e[0]))


def _non_drf_views_under_api(resolver=None, prefix="") -> list[str]:
    """Return URL patterns under /api/ whose view is not a DRF view (uncovered)."""
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _non_drf_views_under_api(pattern, route)
        elif isinstance(pattern, URLPattern) and route.lstrip("^").startswith("api/"):
            view = getattr(pattern.callback, "cls", None)
            if not (isinstance(view, type) and issubclass(view, APIView)):
                found.append(route)
    return found


def _regex(pattern: str) -> str:
    """The rule's pattern with its {pk}/{cid}/{code} placeholders taken literally."""
    return re.sub(r"\{(\w+)\}", r"\\{\1\\}", pattern)


def rule_for(method: str, path: str) -> Rule | None:
    key = f"{method} {path}"
    matches = [r for r in RULES if re.fullmatch(_regex(r.pattern), key)]
    assert len(matches) <= 1, f"{key} matches several rules: {matches}"
    return matches[0] if matches else None


def test_every_api_endpoint_has_a_rule():
    """A new endpoint fails here until RULES says what outsiders must get."""
    missing = [f"{m} {p}" for m, p in api_endpoints() if rule_for(m, p) is None]

    assert missing == [], "add these endpoints to RULES: " + ", ".join(missing)
    assert _non_drf_views_under_api() == []
    assert len(api_endpoints()) >= 50


def _url(path: str, rule: Rule, f: Foreign) -> str:
    url = path
    if "{pk}" in url:
        url = url.replace("{pk}", str(f[rule.obj]))
    if "{cid}" in url:
        url = url.replace("{cid}", str(f[rule.cid]))
    if "{aid}" in url:
        url = url.replace("{aid}", str(f[rule.cid]))
    if "{code}" in url:
        url = url.replace("{code}", CODES[path.split("/")[3]])
    return url


def _body(rule: Rule, f: Foreign, actor) -> dict:
    if callable(rule.body):
        return rule.body(f)
    if rule.body == "assignee":
        return {"assignee": actor.user.pk}
    return rule.body or {}


COUNTS = (
    Consultation,
    Contact,
    Consent,
    Outcome,
    Referral,
    ProvisionRecord,
    Enrolment,
    Notification,
    Export,
)


def _check(response, method, path, rule: Rule, role: str) -> list[str]:
    where = f"{role}: {method} {path} → {response.status_code}"
    problems = []
    content = (
        response.content.decode("utf-8", "replace")
        if hasattr(response, "content")
        else ""
    )
    if response.status_code >= 500:
        return [f"{where}: server error"]
    leaked = [s for s in SECRETS if s in content]
    if leaked:
        problems.append(f"{where}: leaks {leaked}")
    data = None
    if response.get("Content-Type", "").startswith("application/json") and content:
        data = json.loads(content)

    if rule.expect == "hidden":
        if response.status_code not in HIDDEN:
            problems.append(f"{where}: expected 404 (or 403)")
    elif rule.expect == "refused":
        if response.status_code not in REFUSED:
            problems.append(f"{where}: expected 400/403/404")
    elif rule.expect == "own_members":
        if response.status_code == 200:
            names = {row["username"] for row in data["results"]}
            if names & {"owner-a", "receiver-b"}:
                problems.append(f"{where}: lists another organisation's members")
        elif response.status_code != 403:
            problems.append(f"{where}: expected 200 (own members) or 403")
    elif rule.expect == "public":
        if response.status_code != 200:
            problems.append(f"{where}: expected 200")
    elif rule.expect == "public_facts":
        # Network-wide public facts (events): shown, without A's private text
        # (checked above for every answer).
        if response.status_code not in (200, 403):
            problems.append(f"{where}: expected 200 (public facts) or 403")
    elif rule.expect == "own_or_forbidden":
        # The caller's own organisation's settings, or 403 for other roles.
        if response.status_code not in (200, 403):
            problems.append(f"{where}: expected 200 (its own) or 403")
    elif rule.expect == "empty_list":
        if response.status_code == 403:
            pass
        elif response.status_code != 200:
            problems.append(f"{where}: expected 200 with nothing, or 403")
        else:
            rows = data["results"] if isinstance(data, dict) else data
            if rows:
                problems.append(
                    f"{where}: lists {len(rows)} rows of another organisation"
                )
    elif rule.expect == "own":
        if response.status_code not in (200, 201):
            problems.append(f"{where}: expected 200/201 (the caller's own)")
    elif rule.expect == "csv":
        if response.status_code not in (200, 403):
            problems.append(f"{where}: expected 200 or 403")
        elif response.status_code == 200:
            body = b"".join(response.streaming_content).decode("utf-8-sig")
            if len(body.strip().splitlines()) != 1:
                problems.append(f"{where}: the CSV has rows of another organisation")
    elif rule.expect == "company":
        if response.status_code != 200:
            problems.append(f"{where}: expected the public master data (200)")
        else:
            shown = set(data) & set(PRIVATE_COMPANY_FIELDS)
            if shown or data["has_private_access"]:
                problems.append(f"{where}: shows non-public fields {sorted(shown)}")
    elif rule.expect == "company_list":
        if response.status_code != 200:
            problems.append(f"{where}: expected 200")
        else:
            for row in data["results"]:
                shown = set(row) & set(PRIVATE_COMPANY_FIELDS)
                if shown or row["has_private_access"]:
                    problems.append(f"{where}: shows non-public fields {sorted(shown)}")
    elif rule.expect == "statistics":
        if response.status_code == 403:
            pass
        elif response.status_code != 200:
            problems.append(f"{where}: expected 200 or 403")
        else:
            # Every count of records is zero, in the totals and in each row
            # (rows may list dimensions with zeros; a program round's
            # capacity is public reference data).
            dims = set(data["group_by"])
            counted = [
                (k, v)
                for part in [data["totals"], *data["rows"]]
                for k, v in part.items()
                if isinstance(v, int | float)
                and not isinstance(v, bool)
                and k not in dims | STATISTICS_PUBLIC_MEASURES
                and v
            ]
            if counted:
                problems.append(
                    f"{where}: counts another organisation's data {counted}"
                )
    return problems


MEMBERS = [(UNRELATED, role) for role in ROLES] + [
    # A hub, but of another region: its coordinators cover 沖縄県, not 東京都.
    ("bureau-okinawa", "coordinator"),
]


@pytest.mark.parametrize(("organisation", "role"), MEMBERS)
def test_an_unrelated_organisation_gets_nothing_of_anothers_data(
    api, foreign, organisation, role
):
    actor = make_actor(organisation, role)
    client = api(actor)
    before = {model.__name__: model.objects.count() for model in COUNTS}
    problems: list[str] = []

    for method, path in api_endpoints():
        rule = rule_for(method, path)
        url = _url(path, rule, foreign)
        if method == "GET":
            params = (
                {"page_size": 200}
                if rule.expect in ("empty_list", "company_list")
                else {}
            )
            if rule.expect == "company_list":
                params["q"] = "東京秘密工業"
            response = client.get(url, params)
        else:
            body = _body(rule, foreign, actor)
            response = getattr(client, method.lower())(url, body, format="json")
        problems += _check(response, method, path, rule, role)

    after = {model.__name__: model.objects.count() for model in COUNTS}
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert problems == [], "\n".join(problems)
    assert changed == {}, f"rows written by an outsider: {changed}"


def test_the_matrix_data_is_visible_to_its_owner(api, foreign):
    """The matrix is only meaningful if the same requests show A's data to A."""
    owner = make_actor(ORG_A, "org_admin", username="admin-a")
    client = api(owner)

    assert client.get(f"/api/v1/cases/{foreign['case']}/").status_code == 200
    assert (
        client.get(f"/api/v1/consultations/{foreign['consultation']}/").status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/provision-records/{foreign['provision_record']}/"
        ).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/audit-events/{foreign['audit_event']}/").status_code == 200
    )
    assert client.get(f"/api/v1/enrolments/{foreign['enrolment']}/").status_code == 200
    company = client.get(f"/api/v1/companies/{foreign['company']}/").json()
    assert (
        company["has_private_access"] is True and company["capital_yen"] == 12_345_678
    )
    stats = client.get("/api/v1/statistics/consultations/").json()
    assert stats["totals"]["consultations"] >= 1
