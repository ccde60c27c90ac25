"""The upload page tells the user what happened: rows and period, a duplicate recognised with
nothing stored, the importer's warnings; it offers a sample file and the header names it reads."""

from __future__ import annotations

import io
from decimal import Decimal

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.statements.models import StatementFile, StatementTransaction
from tests.factories import EnterpriseFactory, make_enterprise_user
from workflows.verification.statement_headers import recognised_headers
from workflows.verification.statement_sample import SAMPLE_HOLDER, sample_statement_csv
from workflows.verification.statements import parse_statement


def sample_user():
    return make_enterprise_user(enterprise=EnterpriseFactory(name=SAMPLE_HOLDER))


def post_file(client, data: bytes, filename: str, **kwargs):
    return client.post("/statements/upload", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", **kwargs)


def test_the_sample_statement_is_read_whole_by_the_importer():
    parsed = parse_statement(sample_statement_csv(), "statement-sample.csv")
    assert parsed.errors == []
    assert len(parsed.transactions) == 6  # the 合计 line and the disclaimer are not transactions
    assert sum(t.amount for t in parsed.transactions if t.amount > 0) == Decimal("368000.00")
    assert -sum(t.amount for t in parsed.transactions if t.amount < 0) == Decimal("134716.40")
    assert parsed.account_name == SAMPLE_HOLDER


def test_the_sample_downloads_as_csv_for_an_enterprise_user(client, login):
    login(sample_user())
    response = client.get("/statements/sample.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data == sample_statement_csv()


def test_the_page_lists_the_sample_and_every_recognised_header(client, login):
    login(sample_user())
    page = client.get("/statements/").get_data(as_text=True)
    assert 'data-testid="statement-sample"' in page and "/statements/sample.csv" in page
    for role in recognised_headers():
        assert role.zh in page and role.en in page
        for name in role.names[:3]:
            assert name in page


def test_the_page_lists_the_headers_in_english_too(client, login):
    login(sample_user())
    client.get("/lang/en")
    page = client.get("/statements/").get_data(as_text=True)
    assert "Download a sample statement (CSV)" in page
    assert "Columns recognised" in page


def test_a_successful_upload_says_how_many_rows_and_which_period(client, login):
    login(sample_user())
    response = post_file(client, sample_statement_csv(), "sample.csv", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已导入 6 笔交易，期间 2026-01-05 至 2026-03-02" in page


def test_a_duplicate_says_nothing_new_was_stored_and_shows_the_earlier_result(client, login):
    user = sample_user()
    login(user)
    post_file(client, sample_statement_csv(), "sample.csv")
    rows = db.session.scalar(select(func.count()).select_from(StatementTransaction))
    response = post_file(client, sample_statement_csv(), "again.csv", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "本次未存入任何新数据" in page
    assert 'data-testid="statement-report"' in page  # the earlier upload's report
    assert db.session.scalar(select(func.count()).select_from(StatementTransaction)) == rows
    assert len(list(db.session.scalars(
        select(StatementFile).where(StatementFile.enterprise_id == user.enterprise.id)))) == 1


def test_the_sample_route_is_for_enterprise_users_only(client, login):
    assert client.get("/statements/sample.csv").status_code in (302, 401)
