"""APPI art. 29 provision records (API.md `provision-records/`).

Every sent referral records the date, the recipient, the company, the
contacts and items shared and the consent used; org admins list and export
their organisation's records.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from crm.models import AuditEvent, ProvisionRecord, Referral
from crm.services.consents import consent_withdraw
from crm.services.referrals import referral_send
from support_network.errors import Conflict
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, ConsentFactory, ContactFactory

SENDER = "yorozu-13"
RECEIVER = "inpit-window-13"


@pytest.fixture
def sender(network):
    return make_actor(SENDER, "window_staff", "provision-sender")


@pytest.fixture
def admin(network):
    return make_actor(SENDER, "org_admin", "provision-admin")


@pytest.fixture
def case(network, sender):
    return CaseFactory(
        organisation=network[SENDER],
        created_by=sender.user,
        assignee=sender.user,
        company__name="株式会社ていきょう技研",
        company__corporate_number="1180301018771",
    )


def consent(case, network, *codes, scope="organisations", **kwargs):
    row = ConsentFactory(
        company=case.company, scope=scope, organisation=network[SENDER], **kwargs
    )
    if codes:
        row.organisations.set([network[c] for c in codes])
    return row


def send(sender, case, network, to=RECEIVER, **kwargs):
    return referral_send(
        actor=sender,
        case=case,
        to_organisation=network[to],
        reason="知財の助言",
        topics=["patent"],
        **kwargs,
    )


def test_sending_records_date_recipient_company_contacts_items_and_consent(
    network, sender, case
):
    tanaka = ContactFactory(
        company=case.company, organisation=network[SENDER], name="田中 一郎"
    )
    suzuki = ContactFactory(
        company=case.company, organisation=network[RECEIVER], name="鈴木 花子"
    )
    ContactFactory(name="別会社 次郎")  # another company's contact
    used = consent(case, network, RECEIVER)
    now = dt.datetime(2025, 6, 30, 15, 30, tzinfo=dt.UTC)  # 7月1日 00:30 JST

    referral = send(sender, case, network, contacts=[tanaka], now=now)

    record = ProvisionRecord.objects.get()
    assert record.referral == referral
    assert record.provided_on == dt.date(2025, 7, 1)
    assert record.provider.code == SENDER
    assert record.recipient.code == RECEIVER
    assert record.company == case.company
    # The receiver sees every contact of the company through the case.
    assert set(record.contacts.all()) == {tanaka, suzuki}
    assert record.items_shared == ["company", "case", "referral", "contacts"]
    assert record.consent == used
    assert referral.consent == used


def test_a_company_without_contacts_shares_no_contact_item(network, sender, case):
    consent(case, network, RECEIVER)

    send(sender, case, network)

    record = ProvisionRecord.objects.get()
    assert record.items_shared == ["company", "case", "referral"]
    assert record.contacts.count() == 0


def test_the_consent_listing_the_recipient_is_preferred_to_a_network_wide_one(
    network, sender, case
):
    consent(case, network, scope="network", obtained_on=timezone.localdate())
    listing = consent(
        case,
        network,
        RECEIVER,
        obtained_on=timezone.localdate() - dt.timedelta(days=30),
    )

    send(sender, case, network)

    assert ProvisionRecord.objects.get().consent == listing


def test_a_refused_referral_leaves_no_record(network, sender, case):
    consent(case, network, "jpaa-kanto")

    with pytest.raises(Conflict):
        send(sender, case, network)

    assert ProvisionRecord.objects.count() == 0
    assert Referral.objects.count() == 0


# --- API ------------------------------------------------------------------


def test_org_admins_list_their_organisations_provisions(
    api, network, sender, admin, case
):
    contact = ContactFactory(
        company=case.company, organisation=network[SENDER], name="田中 一郎"
    )
    used = consent(case, network, RECEIVER, "jpaa-kanto")
    first = send(sender, case, network)
    second = send(sender, case, network, to="jpaa-kanto")
    # Another organisation's provision is not listed.
    other_case = CaseFactory(organisation=network["yorozu-27"])
    ConsentFactory(company=other_case.company, scope="network")
    send(make_actor("yorozu-27", "window_staff"), other_case, network)

    response = api(admin).get("/api/v1/provision-records/")

    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [r["referral"] for r in rows] == [second.pk, first.pk]
    row = rows[1]
    assert row["provided_on"] == timezone.localdate().isoformat()
    assert row["provider"] == SENDER
    assert row["recipient"] == RECEIVER
    assert row["recipient_name"] == "東京都知財総合支援窓口"
    assert row["company"] == case.company_id
    assert row["company_name"] == "株式会社ていきょう技研"
    assert row["corporate_number"] == "1180301018771"
    assert row["contacts"] == [{"id": contact.pk, "name": "田中 一郎"}]
    assert row["items_shared"] == ["company", "case", "referral", "contacts"]
    assert row["items_shared_labels"][3] == "担当者の氏名・連絡先"
    assert row["consent"]["id"] == used.pk
    assert row["consent"]["scope"] == "organisations"
    assert row["consent"]["withdrawn_at"] is None
    detail = api(admin).get(f"/api/v1/provision-records/{row['id']}/")
    assert detail.status_code == 200


@pytest.mark.parametrize("role", ["window_staff", "coordinator", "manager", "expert"])
def test_only_org_admins_may_see_provision_records(api, network, sender, case, role):
    consent(case, network, RECEIVER)
    send(sender, case, network)
    member = make_actor(SENDER, role, f"provision-{role}")

    for url in (
        "/api/v1/provision-records/",
        "/api/v1/provision-records/csv/",
        "/api/v1/provision-records/?format=csv",
    ):
        response = api(member).get(url)
        assert response.status_code == 403, url
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "org_admin_only"
    assert not AuditEvent.objects.filter(action="provision_record.export").exists()


def test_the_recipients_admin_does_not_see_the_senders_provisions(
    api, network, sender, case
):
    consent(case, network, RECEIVER)
    record = send(sender, case, network).provision_record
    receiving_admin = make_actor(RECEIVER, "org_admin", "receiving-admin")

    assert (
        api(receiving_admin).get("/api/v1/provision-records/").json()["results"] == []
    )
    assert (
        api(receiving_admin).get(f"/api/v1/provision-records/{record.pk}/").status_code
        == 404
    )


def read_csv(response):
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    "url", ["/api/v1/provision-records/csv/", "/api/v1/provision-records/?format=csv"]
)
def test_the_csv_export_has_a_bom_japanese_headers_and_one_row_per_provision(
    api, network, sender, admin, case, url
):
    ContactFactory(company=case.company, organisation=network[SENDER], name="田中 一郎")
    used = consent(case, network, RECEIVER)
    referral = send(sender, case, network)
    consent_withdraw(actor=sender, consent=used)

    response = api(admin).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:4] == ["提供日", "提供元", "提供先コード", "提供先"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["提供日"] == timezone.localdate().isoformat()
    assert row["提供元"] == SENDER
    assert row["提供先"] == "東京都知財総合支援窓口"
    assert row["本人（企業等）"] == "株式会社ていきょう技研"
    assert row["法人番号"] == "1180301018771"
    assert row["提供した担当者"] == "田中 一郎"
    assert "担当者の氏名・連絡先" in row["提供した項目"]
    assert row["同意ID"] == str(used.pk)
    assert row["同意の範囲"] == "指定した組織"
    assert row["同意取得方法"] == "書面"
    # The record keeps the consent it relied on, withdrawn later or not.
    assert row["同意撤回日時"] != ""
    assert row["紹介ID"] == str(referral.pk)
    event = AuditEvent.objects.get(action="provision_record.export")
    assert event.actor == admin.user
    assert event.organisation.code == SENDER
