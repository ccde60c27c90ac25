"""Summary reports (half-year H1, H2 and full-year Y) of a bureau's region: requested on the
reports page, built by the Celery task (eager here) with its progress committed step by step,
kept as a PDF and downloaded later by the bureau's coordinators only; a period that has not
started is refused; a second run of the task changes nothing; a failure is recorded."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import OrgKind, Role
from marketplace.bureau import summaries
from marketplace.bureau.models import ActionItem, AgendaItem, Meeting, SummaryReport
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.outbox import OutboxMessage
from tests.desks.helpers import routed
from tests.factories import OrganisationFactory, UserFactory


def _coordinator(region_code: str = "320500", name: str = "苏州市地方金融监督管理局"):
    bureau = OrganisationFactory(kind=OrgKind.BUREAU, region_code=region_code, name=name)
    return UserFactory(role=Role.BUREAU_COORDINATOR, organisation=bureau, name="朱建华")


def _current_period() -> tuple[int, str]:
    today = today_shanghai()
    return today.year, "H1" if today.month <= 6 else "H2"


def _closed_meeting(coordinator, title: str, minutes_ago: int) -> Meeting:
    when = utcnow() - timedelta(minutes=minutes_ago)
    meeting = Meeting(bureau_id=coordinator.organisation_id, title=title, starts_at=when, place="市政府三楼会议室",
                      host_user_id=coordinator.id, created_by_id=coordinator.id, state="closed", closed_at=when,
                      closed_by_id=coordinator.id)
    db.session.add(meeting)
    db.session.flush()
    return meeting


@pytest.fixture
def region(app):
    """A coordinator whose region holds a routed request, and two meetings of this half-year that
    both discussed it (an SLA breach), with a decision and two action items for the bank."""
    coordinator = _coordinator()
    case = routed(app)
    bank = case.bank_staff.organisation
    first = _closed_meeting(coordinator, "第一次调度会", 30)
    second = _closed_meeting(coordinator, "第二次调度会", 10)
    for meeting in (first, second):
        db.session.add(AgendaItem(meeting_id=meeting.id, position=1, title=f"#{case.request.id} 超期未审批",
                                  request_id=case.request.id, stuck_kind="sla_breach",
                                  decision="银行五个工作日内完成审批" if meeting is second else None))
    today = today_shanghai()
    db.session.add_all([
        ActionItem(meeting_id=first.id, request_id=case.request.id, description="完成放款审批", owner_org_id=bank.id,
                   due_on=today - timedelta(days=1), state="open", created_by_id=coordinator.id),
        ActionItem(meeting_id=first.id, description="补充授信材料", owner_user_id=case.bank_staff.id, due_on=today,
                   state="done", closed_at=utcnow(), closed_by_id=case.bank_staff.id, close_note="已补充",
                   created_by_id=coordinator.id),
    ])
    db.session.flush()
    return coordinator, case


def _pdf_text(tmp_path, data: bytes) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(out.split())


def test_a_requested_report_is_built_kept_and_downloaded(app, client, login, region, tmp_path):
    coordinator, case = region
    year, period = _current_period()
    login(coordinator)
    response = client.post("/bureau/reports/", data={"year": year, "period": period})
    assert response.status_code == 302
    report = db.session.scalar(select(SummaryReport).where(SummaryReport.bureau_id == coordinator.organisation_id))
    assert (report.state, report.progress, report.step) == ("done", 100, "done")
    assert report.finished_at is not None and report.error is None
    with app.app_context():
        path = summaries.report_path(report)
    assert path.parent.name == "summary-reports" and path.is_file() and path.stat().st_size == report.size > 0

    status = client.get(f"/bureau/reports/{report.id}/status")
    assert status.status_code == 200
    assert status.json["state"] == "done" and status.json["progress"] == 100 and status.json["step"] == "done"
    assert status.json["download_url"] == f"/bureau/reports/{report.id}/download"

    download = client.get(f"/bureau/reports/{report.id}/download")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF") and download.data == path.read_bytes()
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "private, no-store"

    text = _pdf_text(tmp_path, download.data)
    assert "苏州市地方金融监督管理局应收账款融资工作总结" in text
    for heading in ("一、业务量", "二、核验分类结构", "三、办理时效", "四、金融机构表现", "五、调度会反映的问题"):
        assert heading in text
    assert case.bank_staff.organisation.name in text  # the institutions' table and the action items' owner
    assert "召开调度会2次" in text and "超过处理时限" in text
    assert case.request.enterprise.name in text  # on two meetings' agendas: recurring
    assert "银行五个工作日内完成审批" in text


def test_the_index_lists_the_reports_with_their_progress_and_download(app, client, login, region, monkeypatch):
    coordinator, _case = region
    year, period = _current_period()
    login(coordinator)
    client.post("/bureau/reports/", data={"year": year, "period": period})
    monkeypatch.setattr(summaries.build_summary_report, "delay", lambda *args: None)  # no worker: stays queued
    client.post("/bureau/reports/", data={"year": year, "period": "Y"})
    done, queued = db.session.scalars(select(SummaryReport).order_by(SummaryReport.id)).all()
    assert queued.state == "queued"
    page = client.get("/bureau/reports/").get_data(as_text=True)
    assert f'data-testid="report-download-{done.id}"' in page
    assert f'data-report-status-url="/bureau/reports/{queued.id}/status"' in page
    assert "<progress" in page and "bureau-reports.js" in page
    assert client.get(f"/bureau/reports/{queued.id}/status").json == {
        "state": "queued", "state_label": "排队中", "progress": 0, "step": "queued", "step_label": "排队等候"}
    assert client.get(f"/bureau/reports/{queued.id}/download").status_code == 404  # not built yet


def test_the_task_commits_its_progress_step_by_step_to_100(ctx, region, monkeypatch):
    coordinator, _case = region
    year, period = _current_period()
    monkeypatch.setattr(summaries.build_summary_report, "delay", lambda *args: None)
    report = summaries.request_report(coordinator.organisation, year, period, coordinator)
    seen, original = [], summaries._progress

    def spy(report_id, percent, step):
        seen.append((percent, step))
        return original(report_id, percent, step)

    monkeypatch.setattr(summaries, "_progress", spy)
    assert summaries.build_summary_report(report.id) == "built"
    assert seen == [(35, "meetings"), (55, "rendering"), (90, "storing")]
    db.session.refresh(report)
    assert (report.state, report.progress) == ("done", 100)


def test_a_second_run_of_the_task_changes_nothing(ctx, region):
    coordinator, _case = region
    year, period = _current_period()
    report = summaries.request_report(coordinator.organisation, year, period, coordinator)
    db.session.commit()  # eager: the task runs after the commit
    db.session.refresh(report)
    stored, finished = report.stored_name, report.finished_at
    files = sorted(p.name for p in summaries.storage_dir().iterdir())
    assert summaries.build_summary_report(report.id) == "done"
    db.session.refresh(report)
    assert (report.state, report.stored_name, report.finished_at) == ("done", stored, finished)
    assert sorted(p.name for p in summaries.storage_dir().iterdir()) == files


def test_the_same_report_already_queued_is_returned_not_duplicated(ctx, monkeypatch):
    coordinator = _coordinator()
    monkeypatch.setattr(summaries.build_summary_report, "delay", lambda *args: None)
    first = summaries.request_report(coordinator.organisation, 2025, "Y", coordinator)
    again = summaries.request_report(coordinator.organisation, 2025, "Y", coordinator)
    other = summaries.request_report(coordinator.organisation, 2025, "H1", coordinator)
    assert again.id == first.id and other.id != first.id
    assert db.session.scalar(select(func.count(SummaryReport.id))) == 2
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.task == "marketplace.bureau.summaries.build_summary_report")) == 2


def test_a_report_left_running_for_an_hour_is_given_up_on_a_new_request(ctx, monkeypatch):
    coordinator = _coordinator()
    monkeypatch.setattr(summaries.build_summary_report, "delay", lambda *args: None)
    stuck = summaries.request_report(coordinator.organisation, 2025, "Y", coordinator)
    stuck.state, stuck.requested_at = "running", utcnow() - timedelta(hours=2)  # its worker was killed
    db.session.flush()
    fresh = summaries.request_report(coordinator.organisation, 2025, "Y", coordinator)
    assert fresh.id != stuck.id and fresh.state == "queued"
    assert (stuck.state, stuck.step) == ("failed", "failed") and stuck.error


@pytest.mark.parametrize(("year", "period", "message"), [
    (2027, "H1", "尚未到来"),
    (2026, "H2", "尚未开始"),
    (2026, "Q3", "报告期间无效"),
    (1999, "Y", "报告年度无效"),
])
def test_periods_that_have_not_started_or_do_not_exist_are_refused(ctx, year, period, message):
    coordinator = _coordinator()
    with pytest.raises(summaries.ReportRefused, match=message):
        summaries.request_report(coordinator.organisation, year, period, coordinator, today=date(2026, 3, 1))
    assert db.session.scalar(select(func.count(SummaryReport.id))) == 0


def test_the_current_half_year_is_accepted_and_covers_up_to_today():
    summaries.check_period(2026, "H1", date(2026, 3, 1))
    summaries.check_period(2026, "Y", date(2026, 1, 1))
    assert summaries.covered_range(2026, "Y", date(2026, 3, 1)) == (date(2026, 1, 1), date(2026, 3, 1))
    assert summaries.covered_range(2025, "H2", date(2026, 3, 1)) == (date(2025, 7, 1), date(2025, 12, 31))


def test_a_future_period_is_refused_on_the_page_and_nothing_is_queued(client, login):
    coordinator = _coordinator()
    db.session.commit()  # the view's rollback of the refusal must not take the coordinator with it
    login(coordinator)
    response = client.post("/bureau/reports/", data={"year": today_shanghai().year + 1, "period": "H1"})
    assert response.status_code == 422 and "尚未到来" in response.get_data(as_text=True)
    assert client.post("/bureau/reports/", data={}).status_code == 422
    assert client.post("/bureau/reports/", data={"year": "1" * 400, "period": "Y"}).status_code == 422
    assert client.post("/bureau/reports/", data={"year": "2025", "period": "Q3"}).status_code == 422
    assert db.session.scalar(select(func.count(SummaryReport.id))) == 0


def test_another_bureau_can_neither_see_nor_download_the_report(app, client, login, region):
    coordinator, _case = region
    year, period = _current_period()
    with app.test_request_context():
        report = summaries.request_report(coordinator.organisation, year, period, coordinator)
        db.session.commit()
    db.session.refresh(report)
    assert report.state == "done"
    stranger = _coordinator(region_code="320100", name="南京市地方金融监督管理局")
    login(stranger)
    assert client.get(f"/bureau/reports/{report.id}/download").status_code == 404
    assert client.get(f"/bureau/reports/{report.id}/status").status_code == 404
    assert f"report-{report.id}" not in client.get("/bureau/reports/").get_data(as_text=True)
    login(UserFactory(role=Role.BANK_OFFICER))
    assert client.get(f"/bureau/reports/{report.id}/download").status_code == 403


def test_a_failed_build_is_recorded_raised_and_leaves_no_file(ctx, monkeypatch):
    coordinator = _coordinator()
    monkeypatch.setattr(summaries.build_summary_report, "delay", lambda *args: None)
    report = summaries.request_report(coordinator.organisation, 2025, "H2", coordinator)
    files = set(summaries.storage_dir().iterdir())

    def broken(html):
        raise RuntimeError("渲染失败")

    monkeypatch.setattr("marketplace.pdf.write_pdf", broken)
    with pytest.raises(RuntimeError):
        summaries.build_summary_report(report.id)
    db.session.refresh(report)
    assert (report.state, report.step, report.stored_name) == ("failed", "failed", None)
    assert "渲染失败" in report.error
    assert set(summaries.storage_dir().iterdir()) == files
    monkeypatch.undo()
    assert summaries.build_summary_report(report.id) == "built"  # a rerun after a failure builds it
    db.session.refresh(report)
    assert report.state == "done" and report.error is None


def test_an_empty_region_still_gives_a_report(ctx, tmp_path):
    coordinator = _coordinator(region_code="650100", name="乌鲁木齐市地方金融监督管理局")
    report = summaries.request_report(coordinator.organisation, 2025, "Y", coordinator)
    db.session.commit()
    db.session.refresh(report)
    assert report.state == "done"
    text = _pdf_text(tmp_path, summaries.report_path(report).read_bytes())
    assert "2025年全年" in text and "期间内无放款" in text and "期间内调度会未布置待办事项" in text


@pytest.mark.xdist_group("celery-worker")
def _broker_drained(celery_config: dict) -> bool:
    """Nothing left in the test's queue and nothing delivered but unacked (the task acks late,
    so a message leaves the unacked hash only once the task has run)."""
    import redis

    from tests.verification.test_redelivery import REDIS_URL

    prefix = celery_config["broker_transport_options"]["global_keyprefix"]
    client = redis.Redis.from_url(REDIS_URL)
    return client.llen(prefix + celery_config["task_default_queue"]) == 0 and client.hlen(prefix + "unacked") == 0


class TestWithARealWorker:
    """The task on a real Celery worker (prefork, as deployed) against Redis and a database of its
    own (real commits): the report is queued by the page's commit, built in the worker (WeasyPrint
    in its forkserver child) and a second delivery of the task leaves it as it is."""

    @pytest.fixture(autouse=True)
    def db_session(self):
        """The worker commits for real into its own database; no rollback fixture here."""
        yield None

    @pytest.fixture
    def worker_setup(self, testrun_uid, worker_id, tmp_path_factory, app):
        from tests.verification.test_redelivery import _worker_setup

        yield from _worker_setup(testrun_uid, worker_id, tmp_path_factory, app, {"visibility_timeout": 3600})

    def test_the_worker_builds_the_report_once(self, worker_setup):
        from tests.verification.test_redelivery import CELERY, ROOT, stop, wait_for

        worker_app, env, celery_config = worker_setup
        with worker_app.app_context(), worker_app.test_request_context():
            coordinator = _coordinator()
            db.session.commit()
            report = summaries.request_report(coordinator.organisation, 2025, "Y", coordinator)
            db.session.commit()  # the outbox sends the task to Redis after this commit
            report_id = report.id

        def current() -> SummaryReport:
            with worker_app.app_context():
                row = db.session.get(SummaryReport, report_id)
                db.session.expunge(row)
                db.session.remove()
                return row

        assert current().state == "queued"
        worker = subprocess.Popen(
            [CELERY, "-A", "wsgi.celery", "worker", "--pool=prefork", "--concurrency=1", "-Q",
             celery_config["task_default_queue"], "-n", "summaries@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "info"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: current().state in ("done", "failed"), 120, "the worker to build the report", worker)
            built = current()
            assert (built.state, built.progress, built.error) == ("done", 100, None)
            with worker_app.app_context():
                path = summaries.report_path(built)
                files = sorted(p.name for p in path.parent.iterdir())
                summaries.build_summary_report.delay(report_id)  # delivered a second time
            assert path.read_bytes().startswith(b"%PDF") and path.stat().st_size == built.size
            wait_for(lambda: _broker_drained(celery_config), 60, "the second delivery to be run and acked", worker)
            again = current()
        finally:
            log = stop(worker)
        assert log.count("succeeded") == 2, log
        assert "'built'" in log and "'done'" in log, log
        assert (again.state, again.stored_name, again.finished_at) == ("done", built.stored_name, built.finished_at)
        assert sorted(p.name for p in path.parent.iterdir()) == files
