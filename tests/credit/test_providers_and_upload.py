"""Data providers: created by the platform admin with their source, staff sign in with a second
factor, and upload records in an XLSX file, all or nothing, errors with row numbers."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pyotp
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.credit.models import CreditRecord
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.credit.conftest import make_provider
from tests.factories import PASSWORD, EnterpriseFactory, UserFactory

HEADER = ["企业统一社会信用代码", "记录编号", "记录类型", "标题", "金额（元）", "发生日期", "结束日期"]


def xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, name="records.xlsx"):
    return client.post("/provider/records/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def stored() -> int:
    return db.session.scalar(select(func.count(CreditRecord.id)))


def day(days_ago: int) -> str:
    return (today_shanghai() - timedelta(days=days_ago)).isoformat()


# ---- the platform admin creates providers ----------------------------------------------------------

def test_platform_admin_creates_a_provider_with_its_source_and_staff(client, login):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    assert "数据来源" in client.get("/admin/institutions/new").get_data(as_text=True)
    response = client.post("/admin/institutions/new", data={"kind": "provider", "name": "苏州市住房公积金管理中心",
                                                              "credit_source": "housing_fund", "region_code": "320505"})
    org = db.session.scalar(select(Organisation).where(Organisation.name == "苏州市住房公积金管理中心"))
    assert org.kind == OrgKind.PROVIDER and org.credit_source == "housing_fund"
    assert response.headers["Location"].endswith(f"/admin/institutions/{org.id}")
    assert "公积金" in client.get(f"/admin/institutions/{org.id}").get_data(as_text=True)
    new_user = client.get(f"/admin/institutions/{org.id}/users/new").get_data(as_text=True)
    assert "数据报送员" in new_user and "bank:officer" not in new_user
    client.post(f"/admin/institutions/{org.id}/users/new", data={
        "name": "赵报送", "email": "zhao@gjj.cn", "role": "provider:staff", "password": "Initial-pass-1"})
    user = db.session.scalar(select(User).where(User.email == "zhao@gjj.cn"))
    assert user.role == Role.PROVIDER_STAFF and user.is_staff


def test_a_provider_needs_a_source_and_other_kinds_have_none(client, login):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    without = client.post("/admin/institutions/new", data={"kind": "provider", "name": "无来源单位"})
    bank_with = client.post("/admin/institutions/new", data={"kind": "bank", "name": "有来源银行", "credit_source": "tax"})
    assert without.status_code == 200 and "数据提供单位须选择数据来源" in without.get_data(as_text=True)
    assert bank_with.status_code == 200 and "只有数据提供单位有数据来源" in bank_with.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Organisation.id)).where(
        Organisation.name.in_(["无来源单位", "有来源银行"]))) == 0


def test_provider_staff_must_enrol_a_second_factor(client):
    staff = make_provider("court")
    response = client.post("/login", data={"email": staff.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/enroll")
    assert client.get("/login/enroll").status_code == 200
    with client.session_transaction() as session:
        secret = session["enroll_secret"]
    client.post("/login/enroll", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/dashboard").headers["Location"].endswith("/provider/records")


def test_provider_staff_read_nothing_of_the_institutions(app, client, login):
    from flask import url_for

    login(make_provider("tax"))
    endpoints = ("actions.index", "desk.index", "leads.index", "enterprises.profile", "admin.institutions",
                 "bureau_dashboard.index", "supermarket.desk", "payments.received")
    with app.test_request_context():
        urls = [url_for(endpoint) for endpoint in endpoints]
    for url in urls:
        assert client.get(url).status_code == 403, url


# ---- the upload ----------------------------------------------------------------------------------

def test_a_good_file_is_stored_whole_and_listed(client, login):
    staff = make_provider("tax")
    enterprise = EnterpriseFactory()
    login(staff)
    data = xlsx([[enterprise.uscc, "X-1", "欠缴税款", "增值税欠缴", "1,200.50", day(40), day(10)],
                 [enterprise.uscc, "X-2", "tax_paid", "按期纳税", "", day(30), ""]])
    response = upload(client, data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/provider/records")
    rows = {r.provider_record_id: r for r in db.session.scalars(select(CreditRecord))}
    assert set(rows) == {"X-1", "X-2"}
    assert rows["X-1"].kind == "tax_arrears" and str(rows["X-1"].amount) == "1200.50" and rows["X-1"].polarity == "negative"
    assert rows["X-2"].amount is None and rows["X-2"].ended_on is None and rows["X-2"].polarity == "positive"
    page = client.get("/provider/records").get_data(as_text=True)
    assert "X-1" in page and "增值税欠缴" in page and enterprise.name in page
    # the same file again: nothing new, nothing refused
    assert upload(client, data).status_code == 302 and stored() == 2


def test_a_file_with_bad_rows_stores_nothing_and_names_each_line(client, login):
    staff = make_provider("tax")
    enterprise = EnterpriseFactory()
    login(staff)
    data = xlsx([[enterprise.uscc, "X-1", "欠缴税款", "增值税欠缴", "1200.50", day(40), ""],  # line 2: fine
                 [enterprise.uscc, "X-2", "行政处罚", "处罚", "", day(40), ""],  # line 3: another source's kind
                 ["91320505000000000A", "X-3", "tax_paid", "按期纳税", "", day(40), ""],  # line 4: bad code
                 [enterprise.uscc, "X-4", "tax_paid", "按期纳税", "12.345", "2026-02-30", ""],  # line 5: amount, date
                 [enterprise.uscc, "X-1", "tax_paid", "按期纳税", "", day(40), ""]])  # line 6: repeats X-1
    response = upload(client, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    lines = [int(x) for x in re.findall(r'data-testid="upload-error-line">(\d+)<', page)]
    assert lines == [3, 4, 5, 5, 6]
    assert "不属于本单位的数据来源" in page and "校验位" in page and "与本批第1条重复" in page
    assert stored() == 0


def test_an_unknown_enterprise_and_a_conflict_are_line_errors(client, login):
    from tests.factories import make_uscc

    staff = make_provider("tax")
    enterprise = EnterpriseFactory()
    login(staff)
    assert upload(client, xlsx([[enterprise.uscc, "X-1", "tax_paid", "按期纳税", "", day(40), ""]])).status_code == 302
    response = upload(client, xlsx([[enterprise.uscc, "X-9", "tax_paid", "按期纳税", "", day(40), ""],
                                    [make_uscc(888888), "X-2", "tax_paid", "按期纳税", "", day(40), ""],
                                    [enterprise.uscc, "X-1", "tax_paid", "标题改了", "", day(40), ""]]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "平台上没有该统一社会信用代码的企业" in page
    assert stored() == 1
    conflict = upload(client, xlsx([[enterprise.uscc, "X-1", "tax_paid", "标题改了", "", day(40), ""]]))
    assert conflict.status_code == 422 and "内容不同" in conflict.get_data(as_text=True)
    assert stored() == 1


def test_a_file_without_the_columns_or_too_long_is_refused(client, login):
    staff = make_provider("tax")
    enterprise = EnterpriseFactory()
    login(staff)
    missing = upload(client, xlsx([["x"]], header=["企业统一社会信用代码", "标题"]))
    assert missing.status_code == 422 and "表头缺少必需的列" in missing.get_data(as_text=True)
    too_many = upload(client, xlsx([[enterprise.uscc, f"X-{n}", "tax_paid", "按期纳税", "", day(4), ""]
                                    for n in range(1001)]))
    assert too_many.status_code == 422 and "一次最多上传1000条记录" in too_many.get_data(as_text=True)
    assert stored() == 0


def test_the_template_opens_and_lists_the_providers_kinds(client, login):
    login(make_provider("court"))
    response = client.get("/provider/records/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in workbook["信用记录"][1]] == HEADER
    kinds = {row[1] for row in workbook["记录类型"].iter_rows(min_row=2, values_only=True)}
    assert kinds == {"court_case_filed", "court_judgment", "court_enforcement", "dishonest_debtor"}


def test_the_template_example_row_passes_the_checks_but_its_enterprise(client, login):
    """The template's example row is a valid record except that no such enterprise exists."""
    staff = make_provider("tax")
    login(staff)
    template = client.get("/provider/records/template.xlsx").data
    response = upload(client, template)
    assert response.status_code == 422
    assert response.get_data(as_text=True).count('data-testid="upload-error"') == 1
    assert "平台上没有该统一社会信用代码的企业" in response.get_data(as_text=True)


def test_the_list_shows_only_the_providers_own_records(client, login, app):
    from tests.credit.conftest import record, token_headers

    tax, court = make_provider("tax"), make_provider("court")
    enterprise = EnterpriseFactory()
    client.post("/api/v1/credit-records", json=record(enterprise, "MINE-1"), headers=token_headers(app, tax))
    client.post("/api/v1/credit-records", json=record(enterprise, "THEIRS-1", kind="court_judgment"),
                headers=token_headers(app, court))
    login(tax)
    page = client.get("/provider/records").get_data(as_text=True)
    assert "MINE-1" in page and "THEIRS-1" not in page
