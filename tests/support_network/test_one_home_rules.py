"""The rules with one home (STYLE §1): fiscal-year input, `--now`, active members."""

from datetime import UTC, datetime

import pytest

from support_network.calendar import JST, fiscal_year_parse, moment_parse
from support_network.errors import ValidationFailed
from support_network.selectors import active_members
from tests.conftest import ORG_A, ORG_B

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=JST)  # FY2026


@pytest.mark.parametrize(
    ("value", "year"),
    [(None, 2026), ("", 2026), (" ", 2026), ("2000", 2000), (2027, 2027), (" 2024 ", 2024)],
)
def test_a_fiscal_year_is_read_with_the_current_one_as_default(value, year):
    assert fiscal_year_parse(value, now=NOW) == year


@pytest.mark.parametrize("value", ["1999", "2028", "令和6", "2024.5", True, "abc"])
def test_a_fiscal_year_outside_2000_to_next_year_is_refused_in_japanese(value):
    with pytest.raises(ValidationFailed) as refused:
        fiscal_year_parse(value, now=NOW)

    assert refused.value.field == "fiscal_year"
    assert "2000〜2027" in refused.value.detail


def test_a_fiscal_year_refusal_names_the_field_it_was_given():
    with pytest.raises(ValidationFailed) as refused:
        fiscal_year_parse("x", now=NOW, field="year")

    assert refused.value.field == "year"


def test_now_without_offset_is_japan_time_and_empty_means_now():
    assert moment_parse("2026-05-07T09:00") == datetime(2026, 5, 7, 9, 0, tzinfo=JST)
    assert moment_parse("2026-05-07T00:00Z").utcoffset().total_seconds() == 0
    assert moment_parse("") is None
    assert moment_parse(None) is None


def test_a_bad_now_is_refused_with_the_expected_format():
    with pytest.raises(ValueError, match="ISO 8601"):
        moment_parse("next monday")


def test_active_members_leave_out_deactivated_people_and_other_roles(
    staff_a, staff_a2, manager_a, staff_b, network
):
    staff_a2.membership.is_active = False
    staff_a2.membership.save()
    org_a = network[ORG_A].pk

    everyone = set(active_members([org_a]).values_list("user__username", flat=True))
    managers = set(
        active_members([org_a], roles=["manager"]).values_list("user__username", flat=True)
    )
    both = active_members([org_a, network[ORG_B].pk]).count()

    assert everyone == {staff_a.user.username, manager_a.user.username}
    assert managers == {manager_a.user.username}
    assert both == 3


def test_one_date_spelling_for_dates_and_japan_time_datetimes():
    from datetime import date

    from support_network.calendar import date_text

    assert date_text(date(2026, 12, 9)) == "2026/12/9"
    # 15:30 UTC on 8 Dec is 00:30 on 9 Dec in Tokyo
    assert date_text(datetime(2026, 12, 8, 15, 30, tzinfo=UTC)) == "2026/12/9"
    assert date_text(None) == ""
