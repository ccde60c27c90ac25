"""Migration c11a00000001 on rows made before it: what an enterprise set in its import becomes its
declaration, the receivable pending again; the debtor's own answers stay; downgrade restores."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import create_database, database_name, drop_database, make_test_config

pytestmark = pytest.mark.no_db  # its own database, migrated step by step

BEFORE, REVISION = "5a7e1f0c9b2d", "c11a00000001"
DEBTOR = "91310000MA1K000019"


@pytest.fixture
def old_app(testrun_uid, worker_id, tmp_path_factory):
    """An app on a fresh database migrated up to the revision before the one under test."""
    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.extensions import db

    name = database_name("mig11", testrun_uid, worker_id)
    app = create_app(make_test_config(create_database(name), tmp_path_factory),
                     instance_path=str(tmp_path_factory.mktemp("mig-instance")))
    with app.app_context():
        upgrade(revision=BEFORE)
    yield app
    with app.app_context():
        db.engine.dispose()
    drop_database(name)


def execute(app, sql: str, **params):
    from marketplace.extensions import db

    with app.app_context(), db.engine.begin() as connection:
        result = connection.execute(text(sql), params)
        return result.mappings().all() if result.returns_rows else []


def seed(app) -> None:
    """One enterprise with a receivable in each way the old code could leave it."""
    execute(app, """INSERT INTO organisations (id, kind, name, active, created_at)
                    VALUES (1, 'enterprise', '苏州示例制造有限公司', true, now())""")
    execute(app, """INSERT INTO enterprises (id, organisation_id, uscc, name, legal_rep_name, legal_rep_id_number,
                        industry_code, region_code, contact_name, contact_phone, created_at)
                    VALUES (1, 1, '91320500MA1K00003D', '苏州示例制造有限公司', '张三', '110101199003074477',
                        '3411', '320505', '张三', '13900000000', now())""")
    rows = [  # id, confirmation, confirmed_via, confirmed_at, confirmed_by_name, dispute_reason
        (1, "confirmed", "import", "2026-11-01 08:00+08", None, None),
        (2, "disputed", "import", "2026-11-02 08:00+08", None, "导入时标记为有异议"),
        (3, "confirmed", "link", "2026-11-03 08:00+08", "王会计", None),
        (4, "disputed", "account", "2026-11-04 08:00+08", "李经理", "货物未交付"),
        (5, "pending", None, None, None, None),
        (6, "confirmed", None, None, None, None),  # an answer naming no debtor act
    ]
    for row_id, state, via, at, by, reason in rows:
        execute(app, """INSERT INTO receivables (id, enterprise_id, debtor_name, debtor_uscc, invoice_no, face_amount,
                            issue_date, due_date, confirmation, confirmed_via, confirmed_at, confirmed_by_name,
                            dispute_reason, created_at, updated_at)
                        VALUES (:id, 1, '上海甲方有限公司', :debtor, :invoice, 1000, '2026-10-01', '2026-12-31',
                            :state, :via, CAST(:at AS timestamptz), :by, :reason, '2026-10-02 09:00+08',
                            '2026-10-02 09:00+08')""",
                id=row_id, debtor=DEBTOR, invoice=f"INV-{row_id}", state=state, via=via, at=at, by=by, reason=reason)


def states(app) -> dict[int, dict]:
    rows = execute(app, "SELECT * FROM receivables ORDER BY id")
    return {row["id"]: dict(row) for row in rows}


def test_import_answers_become_declarations_and_the_debtors_own_answers_stay(old_app):
    from flask_migrate import downgrade, upgrade

    seed(old_app)
    with old_app.app_context():
        upgrade(revision=REVISION)

    after = states(old_app)
    declared_confirmed, declared_disputed, by_link, by_account, pending, no_act = (after[i] for i in range(1, 7))
    for row in (declared_confirmed, declared_disputed, no_act):
        assert row["confirmation"] == "pending"
        assert (row["confirmed_via"], row["confirmed_at"], row["dispute_reason"]) == (None, None, None)
    assert declared_confirmed["declared_confirmation"] == "confirmed"
    assert declared_confirmed["declared_at"].isoformat().startswith("2026-11-01T00:00")  # UTC of 08:00 Shanghai
    assert (declared_disputed["declared_confirmation"], declared_disputed["declared_reason"]) == ("disputed", None)
    assert no_act["declared_confirmation"] == "confirmed" and no_act["declared_at"] is not None
    assert (by_link["confirmation"], by_link["confirmed_via"], by_link["declared_confirmation"]) == (
        "confirmed", "link", None)
    assert (by_account["confirmation"], by_account["dispute_reason"]) == ("disputed", "货物未交付")
    assert (pending["confirmation"], pending["declared_confirmation"]) == ("pending", None)

    with pytest.raises(Exception, match="ck_receivables_confirmed_via"):
        execute(old_app, "UPDATE receivables SET confirmed_via = 'import' WHERE id = 3")
    with pytest.raises(Exception, match="ck_receivables_debtor_answer"):
        execute(old_app, "UPDATE receivables SET confirmation = 'confirmed' WHERE id = 5")

    with old_app.app_context():
        downgrade(revision=BEFORE)
    restored = states(old_app)
    assert (restored[1]["confirmation"], restored[1]["confirmed_via"]) == ("confirmed", "import")
    assert (restored[2]["confirmation"], restored[2]["dispute_reason"]) == ("disputed", "导入时标记为有异议")
    assert (restored[3]["confirmation"], restored[3]["confirmed_via"]) == ("confirmed", "link")
    assert "declared_confirmation" not in restored[1]
