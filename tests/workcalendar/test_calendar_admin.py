"""The working calendar in the application (issue 17): which source decides each year, the
platform admin's warning for a year without its official make-up working days and the page that
sets them, `flask sla calendar YEAR`, and a malformed WORKING_DAY_TABLE refused at start-up."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.workcalendar import services
from marketplace.workcalendar.models import CalendarYear
from tests.factories import UserFactory

DECEMBER_2026 = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_calendar(app):
    """Each test starts and ends without a cached calendar (its rows roll back with the test)."""
    with app.app_context():
        services.forget()
    yield
    with app.app_context():
        services.forget()


@pytest.fixture
def december_2026(monkeypatch):
    monkeypatch.setattr(services, "utcnow", lambda: DECEMBER_2026)


@pytest.fixture
def admin(login):
    user = UserFactory(role=Role.PLATFORM_ADMIN)
    login(user)
    return user


def test_the_admin_is_warned_of_2027_and_the_warning_goes_once_its_make_up_days_are_set(
        app, client, admin, december_2026, ctx):
    page = client.get("/admin/institutions").get_data(as_text=True)
    assert 'data-testid="calendar-warning"' in page and "2027" in page
    assert 'href="/admin/calendar/2027"' in page

    form = client.get("/admin/calendar/2027").get_data(as_text=True)
    assert "2027-02-05" in form  # the package's statutory holidays are prefilled, to be checked
    response = client.post("/admin/calendar/2027", data={
        "holidays": "2027-01-01\n2027-02-05..2027-02-11\n2027-10-01..2027-10-07",
        "workdays": "2027-02-20, 2027-10-09",
        "source_note": "国办发明电〔2026〕1号",
    })
    assert response.status_code == 302
    row = db.session.get(CalendarYear, 2027)
    assert row.workdays == ["2027-02-20", "2027-10-09"] and row.set_by_id == admin.id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.year_set")) is not None

    calendar = services.working_calendar()
    assert calendar.is_working_day(date(2027, 2, 20))          # a make-up Saturday
    assert not calendar.is_working_day(date(2027, 2, 11))      # a day the notice adds
    assert calendar.makeup_days_known(2027)
    assert 'data-testid="calendar-warning"' not in client.get("/admin/institutions").get_data(as_text=True)
    year_page = client.get("/admin/calendar/2027").get_data(as_text=True)
    assert "国办发明电〔2026〕1号" in year_page and "2027-02-20" in year_page


@pytest.mark.parametrize(("holidays", "workdays", "problem"), [
    ("2027-02-31", "", "2027-02-31"),
    ("2027-10-01..2027-10-07", "2027-10-03", "2027-10-03"),
    ("2028-01-01", "", "2028-01-01"),
])
def test_a_bad_day_is_refused_with_the_reason_and_nothing_is_stored(app, client, admin, holidays, workdays, problem):
    page = client.post("/admin/calendar/2027", data={"holidays": holidays, "workdays": workdays})
    assert page.status_code == 200
    assert 'data-testid="error-workdays"' in page.get_data(as_text=True)
    assert problem in page.get_data(as_text=True)
    assert db.session.get(CalendarYear, 2027) is None


def test_a_year_out_of_range_has_no_page(app, client, admin):
    assert client.get("/admin/calendar/1999").status_code == 404
    assert client.get("/admin/calendar/2101").status_code == 404


def test_the_configuration_wins_over_a_year_set_in_the_app(app, client, admin, monkeypatch, ctx):
    services.set_year(2027, [], ["2027-02-20"], "", admin)
    monkeypatch.setitem(app.config, "WORKING_DAY_TABLE", {"2027": {"holidays": ["2027-03-01"]}})
    calendar = services.working_calendar()
    assert not calendar.is_working_day(date(2027, 3, 1))
    assert not calendar.is_working_day(date(2027, 2, 20))     # the app's year is shadowed
    assert "配置优先" in client.get("/admin/calendar/2027").get_data(as_text=True)


def test_the_calendar_follows_a_changed_configuration_without_waiting(app, monkeypatch):
    with app.app_context():
        assert services.working_calendar().is_working_day(date(2027, 3, 1))
        monkeypatch.setitem(app.config, "WORKING_DAY_TABLE", {"2027": {"holidays": ["2027-03-01"]}})
        assert not services.working_calendar().is_working_day(date(2027, 3, 1))


def test_years_without_make_up_days_are_those_near_and_not_official(app, monkeypatch):
    with app.app_context():
        assert services.years_without_makeup_days(datetime(2026, 6, 1, tzinfo=UTC)) == []
        assert services.years_without_makeup_days(DECEMBER_2026) == [2027]
        assert services.years_without_makeup_days(datetime(2100, 12, 2, tzinfo=UTC)) == [2100, 2101]
        monkeypatch.setitem(app.config, "WORKING_DAY_TABLE", {"2027": {"workdays": []}})
        assert services.years_without_makeup_days(DECEMBER_2026) == []


def test_flask_sla_calendar_names_the_source_of_each_year(app):
    runner = app.test_cli_runner()
    output = runner.invoke(args=["sla", "calendar", "2026"]).output
    assert output.startswith("2026: chinese_calendar (official make-up working days known)")
    assert "2026-10-10 Sat make-up workday" in output and "2026-10-01 Thu holiday" in output
    output = runner.invoke(args=["sla", "calendar", "2027"]).output
    assert output.startswith("2027: holidays (statutory holidays only, make-up working days NOT known")
    assert "2027-02-05 Fri holiday         [holidays] Chinese New Year's Eve" in output
    assert "/admin/calendar/2027" in output
    refused = runner.invoke(args=["sla", "calendar", "1990"])
    assert refused.exit_code != 0 and "out of range" in refused.output


@pytest.mark.parametrize(("table", "problem"), [
    ({"2027": {"holidays": ["2027-10-01"], "workdays": ["2027-10-01"]}}, "both a holiday and a workday"),
    ({"2027": {"holidays": ["2027-13-01"]}}, "is not YYYY-MM-DD"),
    ({"3027": {"holidays": []}}, "out of range"),
    ("2027-10-01", "expected"),
])
def test_a_malformed_working_day_table_is_refused_at_start_up(tmp_path, table, problem):
    from marketplace import create_app

    with pytest.raises(RuntimeError, match=problem) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "WORKING_DAY_TABLE": table},
                   instance_path=str(tmp_path))
    assert "WORKING_DAY_TABLE" in str(refused.value)
