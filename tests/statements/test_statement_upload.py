"""The statement upload page: all or nothing, recognised by hash, the holder is the enterprise, scoped."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.statements.models import StatementFile, StatementTransaction
from tests.factories import EnterpriseFactory, make_enterprise_user
from workflows.verification.statements import parse_statement

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statements"
HOLDER = "苏州恒信精密机械有限公司"  # the account holder the fixtures name


def holder_user():
    return make_enterprise_user(enterprise=EnterpriseFactory(name=HOLDER))


def post_file(client, data: bytes, filename: str, **kwargs):
    return client.post("/statements/upload", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", **kwargs)


def statements_of(enterprise_id: int) -> list[StatementFile]:
    return list(db.session.scalars(select(StatementFile).where(StatementFile.enterprise_id == enterprise_id)))


def transaction_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StatementTransaction))


def test_index_shows_the_upload_form_with_a_progress_bar_and_the_empty_state(client, login):
    login(holder_user())
    response = client.get("/statements/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="statement-upload-form"' in page and 'enctype="multipart/form-data"' in page
    assert "<progress" in page and 'data-testid="upload-progress-bar"' in page
    assert 'id="statement-upload-form"' in page and "/static/app.js" in page  # the progress script
    assert "还没有上传银行流水" in page
    assert 'data-testid="nav-statements"' in page


def test_upload_stores_what_the_parser_reads(client, login):
    user = holder_user()
    login(user)
    data = (FIXTURES / "icbc_gbk.csv").read_bytes()
    parsed = parse_statement(data, "icbc_gbk.csv")
    response = post_file(client, data, "icbc_gbk.csv")
    assert response.status_code == 302
    [stored] = statements_of(user.enterprise.id)
    assert response.headers["Location"].endswith(f"/statements/{stored.id}")
    rows = list(db.session.scalars(select(StatementTransaction)
                                   .where(StatementTransaction.statement_id == stored.id)
                                   .order_by(StatementTransaction.line)))
    assert stored.row_count == len(rows) == len(parsed.transactions)
    assert [(r.line, r.date, r.amount, r.balance, r.counterparty, r.summary) for r in rows] == [
        (t.line, t.date, t.amount, t.balance, t.counterparty, t.summary) for t in parsed.transactions]
    assert stored.inflow_total == Decimal("224512.84")
    assert stored.outflow_total == Decimal("53456.70")
    assert stored.sha256 == parsed.sha256 and stored.account_no == parsed.account_no
    assert stored.first_date == min(t.date for t in parsed.transactions)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "statement.imported")) == 1

    page = client.get(f"/statements/{stored.id}").get_data(as_text=True)
    assert "224,512.84" in page and "53,456.70" in page
    assert 'data-testid="chart-inflow"' in page and "<svg" in page
    assert "2024-01" in page and "2024-03" in page
    assert "***************3456" in page and "1102020109000123456" not in page
    listing = client.get("/statements/").get_data(as_text=True)
    assert "***************3456" in listing and "224,512.84" in listing


def test_a_file_with_a_bad_row_stores_nothing_and_names_the_line(client, login):
    user = holder_user()
    login(user)
    before = transaction_count()
    response = post_file(client, (FIXTURES / "bad_row.csv").read_bytes(), "bad_row.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="statement-errors"' in page
    assert 'data-testid="statement-error-line">5<' in page
    assert statements_of(user.enterprise.id) == [] and transaction_count() == before


def test_an_empty_file_is_refused_with_a_message(client, login):
    user = holder_user()
    login(user)
    response = post_file(client, b"", "empty.csv")
    assert response.status_code == 422
    assert 'data-testid="statement-error"' in response.get_data(as_text=True)
    assert statements_of(user.enterprise.id) == []


def test_the_same_file_twice_is_recognised(client, login):
    user = holder_user()
    login(user)
    data = (FIXTURES / "ccb_utf8_bom.csv").read_bytes()
    post_file(client, data, "ccb.csv")
    rows = transaction_count()
    response = post_file(client, data, "ccb-again.csv", follow_redirects=True)
    assert "该文件已于" in response.get_data(as_text=True)
    [stored] = statements_of(user.enterprise.id)
    assert stored.original_name == "ccb.csv"
    assert transaction_count() == rows


def test_a_statement_of_another_account_holder_is_refused(client, login):
    user = make_enterprise_user(enterprise=EnterpriseFactory(name="无锡别家贸易有限公司"))
    login(user)
    response = post_file(client, (FIXTURES / "ccb_utf8_bom.csv").read_bytes(), "ccb.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"流水账户户名“{HOLDER}”与本企业名称不一致" in page
    assert statements_of(user.enterprise.id) == []


def test_the_holder_name_is_compared_once_normalised(client, login):
    user = make_enterprise_user(enterprise=EnterpriseFactory(name="苏州 恒信（精密）机械有限公司"))
    login(user)
    data = "账号,账户名称,交易时间,交易金额,借贷标志\n1234567890,苏州恒信(精密)机械有限公司,2024-01-02,10.00,贷\n"
    assert post_file(client, data.encode(), "a.csv").status_code == 302


def test_another_enterprises_statement_answers_404(client, login):
    owner = holder_user()
    login(owner)
    post_file(client, (FIXTURES / "ccb_utf8_bom.csv").read_bytes(), "ccb.csv")
    [stored] = statements_of(owner.enterprise.id)
    login(make_enterprise_user())
    assert client.get(f"/statements/{stored.id}").status_code == 404
    assert "ccb.csv" not in client.get("/statements/").get_data(as_text=True)


def test_the_report_shows_the_first_50_rows_and_counts_the_rest(client, login):
    login(make_enterprise_user())
    lines = ["交易日期,借方金额,贷方金额,余额,对方户名,摘要"]
    lines += [f"2024-{1 + i // 30:02d}-{1 + i % 28:02d},,{i + 1}.00,,客户{i},货款" for i in range(60)]
    response = post_file(client, ("\n".join(lines) + "\n").encode(), "many.csv", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert page.count('data-testid="transaction-row"') == 50
    assert "另有 10 笔未显示" in page
