"""The platform's audit log page: names, the object read, actions in words, filters by
organisation, user, object and date, pagination and an XLSX export."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from marketplace import audit
from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.extensions import db
from tests.factories import EnterpriseFactory, UserFactory


@pytest.fixture
def admin():
    return UserFactory(role=Role.PLATFORM_ADMIN, name="平台管理员")


@pytest.fixture
def logged(app):
    """A bank officer read request 6 of an enterprise; an enterprise user signed in a week ago."""
    officer = UserFactory(role=Role.BANK_OFFICER, name="王经理", email="wang@bank.cn")
    enterprise = EnterpriseFactory(name="苏州甲精密机械有限公司")
    with app.test_request_context():
        read = audit.record_credit_read(enterprise.id, "financing_request", purpose="financing_review",
                                        actor=officer, request_id=6)
        old = audit.record("auth.login", actor=officer, occurred_at=utcnow() - timedelta(days=7))
    db.session.commit()
    return officer, enterprise, read, old


def page(client, **args):
    return client.get("/admin/audit", query_string=args).get_data(as_text=True)


def test_the_page_shows_names_the_object_read_and_the_action_in_words(client, login, admin, logged):
    officer, enterprise, read, _ = logged
    login(admin)
    html = page(client)
    row = html[html.index(f'data-testid="audit-row-{read.id}"'):]
    row = row[:row.index("</tr>")]
    assert "查看信用数据" in row and "融资申请 #6" in row and "王经理" in row
    assert officer.organisation.name in row and enterprise.name in row and "融资审查" in row


def test_the_page_speaks_english_too(client, login, admin, logged):
    login(admin)
    with client.session_transaction() as session:
        session["locale"] = "en"
    html = page(client)
    assert "Read credit data" in html and "Financing request #6" in html


@pytest.mark.parametrize("args", [
    {"user": "王经"}, {"user": "wang@bank"}, {"organisation": "苏州甲精密"},
    {"object_type": "financing_request", "object_id": "6"}, {"action": "credit_data."},
])
def test_filters_find_the_read(client, login, admin, logged, args):
    _, _, read, old = logged
    login(admin)
    html = page(client, **args)
    assert f'audit-row-{read.id}"' in html


def test_filters_leave_out_what_does_not_match(client, login, admin, logged):
    _, _, read, old = logged
    login(admin)
    today = utcnow().date()
    assert f'audit-row-{old.id}"' not in page(client, date_from=(today - timedelta(days=1)).isoformat())
    assert f'audit-row-{read.id}"' not in page(client, date_to=(today - timedelta(days=3)).isoformat())
    assert f'audit-row-{old.id}"' in page(client, date_to=(today - timedelta(days=3)).isoformat())
    assert f'audit-row-{read.id}"' not in page(client, object_type="financing_request", object_id="7")
    assert f'audit-row-{read.id}"' not in page(client, user="nobody-at-all")


def test_the_page_is_paginated_keeping_the_filters(app, client, login, admin):
    officer = UserFactory(role=Role.BANK_OFFICER, name="翻页人")
    with app.test_request_context():
        for n in range(app.config["PAGE_SIZE"] + 3):
            audit.record("test.paged", object_type="thing", object_id=n, actor=officer)
    db.session.commit()
    login(admin)
    html = page(client, user="翻页人")
    assert "user=%E7%BF%BB%E9%A1%B5%E4%BA%BA" in html and "page=2" in html
    assert html.count('data-testid="audit-row-') == app.config["PAGE_SIZE"]
    assert page(client, user="翻页人", page=2).count('data-testid="audit-row-') == 3


def test_bad_filter_values_are_ignored_not_an_error(client, login, admin):
    login(admin)
    response = client.get("/admin/audit", query_string={"date_from": "2026-13-45", "page": "x", "object_id": "%_"})
    assert response.status_code == 200


def test_the_export_is_an_xlsx_of_the_filtered_events_in_words(client, login, admin, logged):
    _, enterprise, read, old = logged
    login(admin)
    response = client.get("/admin/audit.xlsx", query_string={"user": "王经理"})
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "时间（北京时间）", "操作")
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {read.id, old.id}
    assert by_id[read.id][2] == "查看信用数据" and by_id[read.id][4:8] == ("融资申请", "financing_request", "6",
                                                                          enterprise.name)
    assert by_id[read.id][8].startswith("王经理")


def test_only_the_platform_admin_sees_the_log_or_exports_it(client, login):
    login(UserFactory(role=Role.BANK_APPROVER))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.xlsx").status_code == 403


def test_the_export_keeps_every_filter_including_the_action(client, login, admin, logged):
    _, _, read, _ = logged
    login(admin)
    response = client.get("/admin/audit.xlsx", query_string={"action": "credit_data.", "object_id": "6"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [read.id]
