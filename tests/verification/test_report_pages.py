"""The verification report as a page and a PDF: the enterprise sees its own; a routed institution's
staff see it within consent, each view logged; everyone else is told nothing. The request page
lists the reports, explains a return with advice, and shows the verification's progress."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.enterprises.services import grant_consent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.supermarket.charts import line_chart
from marketplace.verification.services import reports_of
from tests.desks.helpers import accepted_offer, revoke_consents
from tests.factories import make_enterprise_user
from tests.supermarket.products import lender
from tests.verification.cases import build, submit


@pytest.fixture
def excellent(app):
    """A request verified as excellent and routed to the case's bank (the real path: statements,
    confirmed receivables, a matching published product, the eager verification task)."""
    case = build(app, "excellent")
    submit(app, case)
    assert case.request.state == "routed_to_bank"
    (case.report,) = reports_of(case.request.id)
    return case


@pytest.fixture
def returned(app):
    case = build(app, "poor")
    submit(app, case)
    assert case.request.state == "returned"
    return case


def report_url(case, suffix: str = "", institution: bool = False) -> str:
    base = "/institution/requests" if institution else "/financing"
    return f"{base}/{case.request.id}/reports/{case.report.id}{suffix}"


def consent(app, case, org_id: int) -> None:
    owner = case.owner
    with app.test_request_context():
        today = today_shanghai()
        grant_consent(owner.enterprise, owner, grantee_org_id=org_id, scopes=["bank_statements"],
                      purpose="融资审查", valid_from=today, valid_to=today + timedelta(days=30))
        db.session.commit()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_enterprise_sees_header_charts_checks_thresholds_and_hashes(client, login, excellent):
    login(excellent.owner)
    page = client.get(report_url(excellent)).get_data(as_text=True)
    report, payload = excellent.report, excellent.report.payload
    assert 'data-classification="excellent"' in page and "badge-ok" in page and "优质" in page
    assert f"版本 {report.policy_version}，自 {report.policy_effective_from:%Y-%m-%d} 起生效" in page
    assert payload["enterprise"]["name"] in page and f"{report.as_of:%Y-%m-%d}" in page
    # three charts (inflow, outflow, month-end balance) and the numbers under them
    assert len(re.findall(r'<svg class="chart', page)) == 3 and 'class="chart line-chart"' in page
    assert page.count('data-testid="report-month"') == 12
    first = payload["metrics"]["months"][0]
    assert f'{Decimal(first["inflow"]):,.2f}' in page
    # every receivable with its six checks, every health check, as coloured levels with reasons
    assert page.count('data-testid="report-receivable"') == 2
    for code in ("R1", "R2", "R3", "R4", "R5", "R6"):
        assert page.count(f'data-testid="check-{code}" data-level="ok"') == 2
    for check in payload["health"]:
        assert f'data-testid="check-{check["code"]}" data-level="{check["level"]}"' in page
        assert check["reason_zh"] in page
    assert all(reason in page for reason in payload["reasons_zh"])
    assert page.count('data-testid="threshold-') == len(report.thresholds) and "R2 正常所需付款月数" in page
    assert f'<code title="{report.inputs_sha256}">{report.inputs_sha256[:12]}…</code>' in page
    assert f'href="{report_url(excellent, ".pdf")}"' in page


def test_reasons_and_labels_follow_the_english_locale(client, login, excellent):
    login(excellent.owner)
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = client.get(report_url(excellent)).get_data(as_text=True)
    payload = excellent.report.payload
    assert payload["reasons_en"][0] in page and payload["reasons_zh"][0] not in page
    assert payload["health"][0]["reason_en"] in page and "Excellent" in page


def test_a_report_without_statements_shows_empty_months_and_no_balance_line(client, login, returned):
    (report,) = reports_of(returned.request.id)
    login(returned.owner)
    page = client.get(f"/financing/{returned.request.id}/reports/{report.id}").get_data(as_text=True)
    assert 'data-classification="poor"' in page and "badge-bad" in page and "较差" in page
    assert page.count('data-testid="report-month"') == 12 and page.count(">—</td>") == 12
    assert '<polyline class="line"' not in page and page.count('<rect class="gap"') == 12
    assert 'data-testid="check-H0" data-level="fail"' in page


def test_enterprise_downloads_the_report_as_pdf(client, login, excellent):
    login(excellent.owner)
    response = client.get(report_url(excellent, ".pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert f"verification-report-{excellent.request.id}-1.pdf" in response.headers["Content-Disposition"]


def test_another_enterprise_gets_404_for_page_and_pdf(client, login, excellent):
    login(make_enterprise_user())
    assert client.get(report_url(excellent)).status_code == 404
    assert client.get(report_url(excellent, ".pdf")).status_code == 404


def test_a_report_of_another_request_is_not_found_under_this_one(app, client, login, excellent, returned):
    login(excellent.owner)
    (other,) = reports_of(returned.request.id)
    assert client.get(f"/financing/{excellent.request.id}/reports/{other.id}").status_code == 404


def test_routed_bank_sees_page_and_pdf_with_consent_and_each_view_is_logged(app, client, login, excellent):
    bank = excellent.bank_staff
    consent(app, excellent, bank.organisation_id)
    login(bank)
    page = client.get(report_url(excellent, institution=True))
    assert page.status_code == 200 and 'data-classification="excellent"' in page.get_data(as_text=True)
    assert f'href="{report_url(excellent, ".pdf", institution=True)}"' in page.get_data(as_text=True)
    pdf = client.get(report_url(excellent, ".pdf", institution=True))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    reads = [e for e in events("credit_data.read") if e.object_type == "verification_report"]
    assert len(reads) == 2
    assert all(e.enterprise_id == excellent.owner.enterprise.id and e.actor_org_id == bank.organisation_id
               for e in reads)
    assert events("credit_data.denied") == []


def test_a_bank_whose_consent_ended_mid_review_no_longer_finds_the_report(app, client, login, excellent):
    bank = excellent.bank_staff
    revoke_consents(app, excellent.owner, bank.organisation_id)
    login(bank)
    assert client.get(report_url(excellent, institution=True)).status_code == 404
    assert client.get(report_url(excellent, ".pdf", institution=True)).status_code == 404
    assert [e for e in events("credit_data.read") if e.object_type == "verification_report"] == []


def test_a_bank_holding_an_accepted_offer_without_consent_is_refused_and_the_refusal_logged(
        app, client, login, excellent):
    bank = excellent.bank_staff
    accepted_offer(app, excellent)  # a contract: the request stays visible to the bank
    revoke_consents(app, excellent.owner, bank.organisation_id)
    login(bank)
    assert client.get(report_url(excellent, institution=True)).status_code == 403
    assert client.get(report_url(excellent, ".pdf", institution=True)).status_code == 403
    denied = events("credit_data.denied")
    assert len(denied) == 2 and all(e.enterprise_id == excellent.owner.enterprise.id for e in denied)
    assert [e for e in events("credit_data.read") if e.object_type == "verification_report"] == []


def test_staff_of_an_institution_the_request_was_not_routed_to_get_404(app, client, login, excellent):
    stranger = lender(Role.BANK_APPROVER, name="未被推送的银行")
    consent(app, excellent, stranger.organisation_id)  # consent alone does not open a request
    for user in (stranger, excellent.guarantor_staff):  # the guarantor was never routed an excellent request
        login(user)
        assert client.get(report_url(excellent, institution=True)).status_code == 404
        assert client.get(report_url(excellent, ".pdf", institution=True)).status_code == 404
    assert [e for e in events("credit_data.read") if e.object_type == "verification_report"] == []


def test_returned_request_page_shows_every_reason_the_advice_and_the_way_back(client, login, returned):
    login(returned.owner)
    page = client.get(f"/financing/{returned.request.id}").get_data(as_text=True)
    (report,) = reports_of(returned.request.id)
    assert 'data-testid="returned-reasons"' in page
    shown = re.findall(r'data-testid="return-reason">([^<]*)</li>', page)
    assert shown == report.payload["reasons_zh"]
    advice = re.findall(r'data-testid="advice">([^<]*)</li>', page)
    assert advice[0] == "请上传至少覆盖6个月（最好12个月）的银行流水"
    assert 'data-testid="resubmit-hint"' in page and f"/financing/{returned.request.id}/edit" in page
    assert f'href="/financing/{returned.request.id}/reports/{report.id}"' in page
    assert 'data-testid="verification-progress"' not in page


def test_a_resubmission_adds_a_report_and_keeps_the_old_one_listed_latest_first(app, client, login, returned):
    submit(app, returned)  # nothing changed: returned again, with a second report
    first, second = sorted(reports_of(returned.request.id), key=lambda r: r.submission_no)
    login(returned.owner)
    page = client.get(f"/financing/{returned.request.id}").get_data(as_text=True)
    links = re.findall(r'data-testid="report-link-(\d+)"', page)
    assert links == [str(second.id), str(first.id)]
    assert "第2次提交的核验报告" in page and "第1次提交的核验报告" in page


def test_an_accepted_request_page_lists_its_report_without_a_return_section(client, login, excellent):
    login(excellent.owner)
    page = client.get(f"/financing/{excellent.request.id}").get_data(as_text=True)
    assert f'data-testid="report-link-{excellent.report.id}"' in page
    assert 'data-testid="returned-reasons"' not in page and 'data-testid="verification-progress"' not in page


def test_progress_is_shown_and_polled_while_the_verification_runs(app, client, login, worker_idle):
    case = build(app, "poor", with_products=False)
    submit(app, case)  # queued: no worker picks it up
    login(case.owner)
    url = f"/financing/{case.request.id}/progress"
    assert client.get(url).get_json() == {"state": "submitted", "label": "已提交", "done": False}
    page = client.get(f"/financing/{case.request.id}").get_data(as_text=True)
    assert 'data-testid="verification-progress"' in page and f'data-progress-url="{url}"' in page
    steps = re.findall(r'data-testid="progress-step" data-status="(\w+)"[^>]*>([^<]*)</li>', page)
    assert steps == [("current", "已提交"), ("todo", "核验中"), ("todo", "已核验"), ("todo", "推送/退回")]
    assert "data-progress-url=" in page and "/static/app.js" in page  # app.js polls, then reloads

    from marketplace.verification.services import run_verification, submission_number

    with app.test_request_context():
        assert run_verification(case.request.id, submission_number(case.request)) == "poor"
    assert client.get(url).get_json() == {"state": "returned", "label": "已退回", "done": True}


def test_progress_is_the_owners_only(app, client, login, returned):
    login(make_enterprise_user())
    assert client.get(f"/financing/{returned.request.id}/progress").status_code == 404
    login(returned.owner)
    with client.session_transaction() as session:
        session["locale"] = "en"
    assert client.get(f"/financing/{returned.request.id}/progress").get_json() == {
        "state": "returned", "label": "Returned", "done": True}


def test_the_balance_line_breaks_at_months_without_a_balance_and_goes_below_zero():
    svg = str(line_chart([("2026-01", Decimal("1000.00")), ("2026-02", Decimal("-200.00")), ("2026-03", None),
                          ("2026-04", Decimal("3000.00"))], title="月末余额", unit="元", missing="无余额数据"))
    assert 'role="img"' in svg and "<title id=" in svg
    points = re.findall(r'<circle class="point" cx="([\d.]+)" cy="([\d.]+)"[^>]*data-value="([^"]*)"', svg)
    assert [p[2] for p in points] == ["1,000.00", "-200.00", "3,000.00"]
    assert 'data-label="2026-03" data-value=""><title>2026-03: 无余额数据</title>' in svg
    lines = re.findall(r'<polyline class="line" points="([^"]*)"', svg)
    assert len(lines) == 1 and len(lines[0].split()) == 2  # Jan-Feb; Apr stands alone after the gap
    zero = float(re.search(r'<line class="axis" x1="[\d.]+" y1="([\d.]+)"', svg).group(1))
    assert float(points[1][1]) > zero > float(points[0][1]) > float(points[2][1])  # SVG y grows downwards
    assert 'data-min="-200"' in svg and 'data-max="5000"' in svg  # round numbers beyond both ends
