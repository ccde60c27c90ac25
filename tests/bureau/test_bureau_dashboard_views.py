"""The coordinator's dashboard page and its exports: the region's figures as tables and chart data,
the vendored chart script served from /static, the date-range filter and its refusals, the rule
BUREAU, XLSX with yuan amounts as numbers, CSV with a BOM, a query count that stays put."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from html import unescape

import pytest
from openpyxl import load_workbook

from marketplace.accounts.roles import Role
from marketplace.desks import decisions
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.desks.helpers import claimed, routed, target_of
from tests.factories import OrganisationFactory, UserFactory, make_enterprise_user
from tests.loans.helpers import accepted, disbursed
from tests.sql_log import statements_run

DASHBOARD = "/bureau/dashboard"
CHART_SCRIPT = "/static/vendor/chart.js/chart.umd.min.js"


def declined(app, reason: str = "cash_flow"):
    """A request routed to its bank, which declines it with `reason`."""
    case = routed(app)
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        decisions.decline(target, case.bank_staff, reason, "近三个月回款下降")
    return case


@pytest.fixture
def seeded(app):
    """In the coordinator's region (320505): one request financed (¥200,000 disbursed today), one
    declined by its bank for cash flow, one (mixed) routed to a guarantor; each asks ¥250,000."""
    deal = accepted(app)
    disbursed(app, deal)
    declined(app)
    routed(app, "mixed")
    return UserFactory(role=Role.BUREAU_COORDINATOR, name="朱建华")


def chart_data(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="dashboard-data"[^>]*>(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def section(html: str, testid: str) -> str:
    match = re.search(rf'<section[^>]*data-testid="{testid}".*?</section>', html, re.S)
    assert match, testid
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))))


def test_the_dashboard_shows_the_region_figures_as_tables_and_chart_data(client, login, seeded):
    login(seeded)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    year_start = date(today_shanghai().year, 1, 1).isoformat()
    assert f'value="{year_start}"' in html and f'value="{today_shanghai().isoformat()}"' in html
    funnel = section(html, "dashboard-funnel")
    assert "已提交 3 75.00" in funnel and "已推送机构 3 75.00" in funnel and "已放款 1 25.00" in funnel
    classes = section(html, "dashboard-classes")
    assert "优质 2 50.00" in classes and "一般 1 25.00" in classes and "较差 0 0.00" in classes
    assert "合计 3 75.00" in classes
    assert "经营现金流不足以覆盖还款 1" in section(html, "dashboard-declines")
    assert "测试银行苏州分行 银行 1 1 0 1 20.00" in section(html, "dashboard-institutions")
    monthly = section(html, "dashboard-monthly")
    assert f"{today_shanghai():%Y-%m} 1 20.00" in monthly and "合计 1 20.00" in monthly
    turnaround = section(html, "dashboard-turnaround")
    assert "核验中" in turnaround and "中位数（小时）" in turnaround
    assert 'data-testid="dashboard-credit-note"' not in html
    assert "名单计算上线后" in section(html, "dashboard-grades")

    data = chart_data(html)
    assert data["funnel"]["labels"] == ["已提交", "已核验", "已推送机构", "已获报价", "已放款"]
    assert data["funnel"]["counts"] == [3, 3, 3, 1, 1]
    assert data["funnel"]["amounts"] == ["75.00", "75.00", "75.00", "25.00", "25.00"]
    assert data["classes"]["counts"] == [2, 1, 0]
    assert data["declines"] == {"labels": ["经营现金流不足以覆盖还款"], "counts": [1]}
    assert data["monthly"]["labels"][0] == f"{today_shanghai().year}-01"
    assert data["monthly"]["labels"][-1] == f"{today_shanghai():%Y-%m}"
    assert data["turnaround"]["labels"] and data["turnaround"]["series"]
    assert data["grades"]["codes"] == ["A", "B", "C", "D", "ungraded"]
    assert data["grades"]["labels"] == ["A", "B", "C", "D", "未评级"]
    for name in ("funnel", "classes", "declines", "turnaround", "monthly", "grades"):
        assert f'<canvas id="chart-{name}" data-chart="{name}"' in html


def test_the_charts_come_from_this_site_with_the_pages_nonce(client, login, seeded):
    login(seeded)
    response = client.get(DASHBOARD)
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert f'src="{CHART_SCRIPT}?v=' in html and 'src="/static/bureau-dashboard.js?v=' in html  # content hash
    assert "cdn" not in " ".join(scripts).lower() and "//" not in " ".join(re.findall(r'src="([^"]+)"', html))
    library = client.get(CHART_SCRIPT)
    assert library.status_code == 200 and "javascript" in library.mimetype
    assert library.get_data(as_text=True).startswith("/*!\n * Chart.js v4.")
    drawing = client.get("/static/bureau-dashboard.js")
    assert drawing.status_code == 200 and "javascript" in drawing.mimetype
    assert 'getElementById("dashboard-data")' in drawing.get_data(as_text=True)
    assert client.get("/static/vendor/chart.js/LICENSE.md").status_code == 200


def test_an_empty_region_still_reads_as_tables(client, login):
    login(UserFactory(role=Role.BUREAU_COORDINATOR, organisation=OrganisationFactory(kind="bureau", region_code="110000")))
    html = client.get(DASHBOARD).get_data(as_text=True)
    assert "已提交 0 0.00" in section(html, "dashboard-funnel")
    assert 'data-testid="empty"' in section_html(html, "dashboard-declines")


def section_html(html: str, testid: str) -> str:
    return re.search(rf'<section[^>]*data-testid="{testid}".*?</section>', html, re.S).group(0)


def test_the_date_range_chooses_the_requests(client, login, seeded):
    login(seeded)
    year = today_shanghai().year
    html = client.get(DASHBOARD, query_string={"start": f"{year - 2}-01-01", "end": f"{year - 2}-12-31"}).get_data(as_text=True)
    assert 'data-testid="range-error"' not in html
    assert f"{year - 2}-01-01 至 {year - 2}-12-31" in html
    assert "已提交 0 0.00" in section(html, "dashboard-funnel")
    assert chart_data(html)["monthly"]["labels"] == [f"{year - 2}-{m:02d}" for m in range(1, 13)]
    today = today_shanghai().isoformat()
    html = client.get(DASHBOARD, query_string={"start": today, "end": today}).get_data(as_text=True)
    assert "已提交 3 75.00" in section(html, "dashboard-funnel")
    html = client.get(DASHBOARD, query_string={"end": f"{year - 1}-06-30"}).get_data(as_text=True)
    assert f'value="{year - 1}-01-01"' in html and "已提交 0 0.00" in section(html, "dashboard-funnel")


@pytest.mark.parametrize("start, end, message", [
    ("2026-13-01", "2026-12-31", "日期格式应为 YYYY-MM-DD"),
    ("not-a-date", "", "日期格式应为 YYYY-MM-DD"),
    ("2026/01/01", "", "日期格式应为 YYYY-MM-DD"),
    ("2026-06-30", "2026-06-01", "起始日期不能晚于截止日期"),
    ("2020-01-01", "2026-06-30", "日期范围最长三年"),
    ("1900-01-01", "1900-12-31", "2000-01-01 至 2099-12-31"),
])
def test_a_bad_range_is_refused_clearly_and_the_default_is_shown(client, login, seeded, start, end, message):
    login(seeded)
    response = client.get(DASHBOARD, query_string={"start": start, "end": end})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = unescape(re.search(r'data-testid="range-error"[^>]*>(.*?)</div>', html, re.S).group(1))
    year_start = date(today_shanghai().year, 1, 1).isoformat()
    assert message in error and f"已改为显示默认范围 {year_start} 至 {today_shanghai().isoformat()}" in error
    assert "已提交 3 75.00" in section(html, "dashboard-funnel")


@pytest.mark.parametrize("role", [Role.BANK_OFFICER, Role.GUARANTOR_APPROVER, Role.ENTERPRISE_ADMIN, Role.PLATFORM_ADMIN])
def test_other_roles_are_refused_the_dashboard_and_its_exports(client, login, role):
    user = make_enterprise_user(role) if role == Role.ENTERPRISE_ADMIN else UserFactory(role=role)
    login(user)
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(f"{DASHBOARD}/export?format=xlsx").status_code == 403


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_xlsx_export_has_a_sheet_per_figure_group_with_yuan_amounts_as_numbers(client, login, seeded):
    login(seeded)
    today = today_shanghai().isoformat()
    response = client.get(f"{DASHBOARD}/export", query_string={"format": "xlsx", "start": "2026-01-01", "end": today})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"dashboard_2026-01-01_{today}.xlsx" in disposition
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["统计范围", "融资漏斗", "核验分类", "办理时长", "拒绝原因", "月度放款", "机构表现",
                               "信用等级分布"]
    funnel = book["融资漏斗"]
    assert [c.value for c in funnel[1]] == ["阶段", "笔数", "金额（元）"]
    assert funnel["A2"].value == "已提交" and funnel["B2"].value == 3
    assert isinstance(funnel["C2"].value, int | float) and funnel["C2"].value == 750000
    assert funnel["C2"].number_format == '"¥"#,##0.00'
    institutions = book["机构表现"]
    assert institutions["A2"].value == "测试银行苏州分行" and institutions["G2"].value == 200000
    assert institutions["G2"].number_format == '"¥"#,##0.00'
    assert book["拒绝原因"]["A2"].value == "cash_flow" and book["拒绝原因"]["C2"].value == 1
    scope = book["统计范围"]
    assert scope["B3"].value == "2026-01-01" and scope["B4"].value == today


def test_the_csv_export_is_one_section_with_a_bom(client, login, seeded):
    login(seeded)
    response = client.get(f"{DASHBOARD}/export", query_string={"format": "csv", "section": "institutions"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    year_start = date(today_shanghai().year, 1, 1).isoformat()
    assert f"dashboard_institutions_{year_start}_{today_shanghai().isoformat()}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "机构" and rows[0][-1] == "放款金额（元）"
    assert ["测试银行苏州分行", "银行", "1", "1", "0", "1", "200000.00"] in rows
    funnel = client.get(f"{DASHBOARD}/export", query_string={"format": "csv"})
    assert funnel.data.decode("utf-8-sig").splitlines()[1] == "已提交,3,750000.00"


@pytest.mark.parametrize("query", [{"format": "pdf"}, {"format": "csv", "section": "secrets"}])
def test_an_unknown_export_is_refused(client, login, seeded, query):
    login(seeded)
    assert client.get(f"{DASHBOARD}/export", query_string=query).status_code == 400


def test_an_export_with_a_bad_range_goes_back_to_the_page_which_says_why(client, login, seeded):
    login(seeded)
    response = client.get(f"{DASHBOARD}/export", query_string={"format": "xlsx", "start": "2026-06-30", "end": "2026-06-01"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "起始日期不能晚于截止日期" in html


def test_the_page_costs_the_same_number_of_queries_whatever_the_rows(app, client, login, seeded):
    login(seeded)

    def queries() -> int:
        with statements_run(app) as statements:
            assert client.get(DASHBOARD).status_code == 200
        return len(statements)

    few = queries()
    assert few >= 7  # the seven figure queries at least: the listener sees them
    disbursed(app, accepted(app))
    declined(app, "policy")
    routed(app, "poor")
    assert queries() == few
    assert "已提交 6 150.00" in section(client.get(DASHBOARD).get_data(as_text=True), "dashboard-funnel")


def test_labels_that_have_english_pairs_follow_the_pages_language(client, login, seeded):
    login(seeded)
    with client.session_transaction() as session:
        session["locale"] = "en"
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    data = chart_data(response.get_data(as_text=True))
    assert data["classes"]["labels"] == ["Excellent", "Mixed", "Poor"]
    assert data["declines"]["labels"] == ["Cash flow too thin to repay"]
    assert "Verifying" in data["turnaround"]["labels"]


# ---- issue 13 item 2: the grade distribution -----------------------------------------------------

@pytest.fixture
def graded(app, seeded):
    """The seeded region's enterprises given grades: the first A then B (B is current), the others
    an ungraded latest row; a new enterprise never graded; one outside the region (Nanjing) graded D."""
    from sqlalchemy import select

    from marketplace.enterprises.models import Enterprise
    from tests.bureau.test_bureau_dashboard import add_grade
    from tests.factories import EnterpriseFactory

    first, *others = db.session.scalars(select(Enterprise).where(Enterprise.region_code.like("3205%"))
                                        .order_by(Enterprise.id)).all()
    add_grade(first.id, "A", 800)
    add_grade(first.id, "B", 650)
    for enterprise in others:
        add_grade(enterprise.id, "D", 100)
        add_grade(enterprise.id, None)
    EnterpriseFactory(region_code="320505")
    add_grade(EnterpriseFactory(region_code="320100").id, "D", 100)
    db.session.flush()
    return seeded, len(others) + 1  # the coordinator, the region's ungraded enterprises


def test_the_page_shows_the_regions_enterprises_by_current_grade(client, login, graded):
    coordinator, ungraded = graded
    login(coordinator)
    html = client.get(DASHBOARD).get_data(as_text=True)
    grades = section(html, "dashboard-grades")
    assert "信用等级 企业数" in grades
    assert f"A 0 B 1 C 0 D 0 未评级 {ungraded} 合计 {ungraded + 1}" in grades
    assert chart_data(html)["grades"]["counts"] == [0, 1, 0, 0, ungraded]
    assert 'data-testid="csv-grades"' in section_html(html, "dashboard-grades")
    with client.session_transaction() as session:
        session["locale"] = "en"
    english = client.get(DASHBOARD).get_data(as_text=True)
    assert chart_data(english)["grades"]["labels"][-1] == "Ungraded"


def test_the_exports_have_the_grade_distribution(client, login, graded):
    coordinator, ungraded = graded
    login(coordinator)
    book = load_workbook(io.BytesIO(client.get(f"{DASHBOARD}/export", query_string={"format": "xlsx"}).data))
    sheet = book["信用等级分布"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["信用等级", "企业数"], ["A", 0], ["B", 1], ["C", 0], ["D", 0], ["未评级", ungraded]]
    assert book["统计范围"]["A6"].value == "信用等级分布" and "不限统计期间" in book["统计范围"]["B6"].value
    response = client.get(f"{DASHBOARD}/export", query_string={"format": "csv", "section": "grades"})
    assert response.status_code == 200 and "dashboard_grades_" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [["信用等级", "企业数"], ["A", "0"], ["B", "1"], ["C", "0"], ["D", "0"], ["未评级", str(ungraded)]]
