"""Smoke test of the embedded default: SQLite under the instance folder, eager tasks, offline
payments. No PostgreSQL here: migrations run on SQLite and the enterprise's path works end to end."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.bureau.test_bureau_dashboard import ROWS, _posted_requests, graded_region
from tests.enterprises.test_registration import form as registration_form
from tests.enterprises.test_registration import profile_form

pytestmark = pytest.mark.sqlite


@pytest.fixture(autouse=True)
def db_session():
    """This module builds its own SQLite database; the PostgreSQL rollback fixture is not used."""
    yield None


@pytest.fixture
def embedded_app(tmp_path, monkeypatch):
    for name in ("FLASK_SQLALCHEMY_DATABASE_URI", "FLASK_SECRET_KEY", "FLASK_AUDIT_KEY", "FLASK_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    from marketplace import create_app

    app = create_app({"WTF_CSRF_ENABLED": False}, instance_path=str(tmp_path))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return app


def test_embedded_default_runs_the_enterprise_path_on_sqlite(embedded_app, tmp_path):
    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest
    from marketplace.receivables.models import Receivable

    assert embedded_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert (tmp_path / "marketplace.db").exists()
    client = embedded_app.test_client()
    assert client.post("/register", data=registration_form()).status_code == 200  # "check your email"
    with embedded_app.test_request_context():
        from marketplace.accounts.models import User
        from marketplace.enterprises.registration import confirmation_token

        token = confirmation_token(db.session.scalar(select(User)))
    assert client.post(f"/register/confirm/{token}").status_code == 302
    client.post("/enterprise/commitment", data={"signer_name": "陈建国", "confirmed": "1"})
    assert client.post("/enterprise/profile/complete", data=profile_form()).status_code == 302
    with embedded_app.app_context():
        from marketplace.enterprises.models import Enterprise
        from tests.factories import ReceivableFactory

        enterprise = db.session.scalar(select(Enterprise))
        receivable = ReceivableFactory(enterprise=enterprise, face_amount=Decimal("300000.00"))
        db.session.commit()
        receivable_id = receivable.id
    client.post("/financing/new", data={"amount": "250000.50", "term_days": 90, "purpose": "采购",
                                        "receivables": [receivable_id]})
    with embedded_app.app_context():
        request = db.session.scalar(select(FinancingRequest))
        assert request.amount == Decimal("250000.50")
        request_id, version = request.id, request.version
    client.post(f"/financing/{request_id}/submit", data={"version": version})
    with embedded_app.app_context():
        # verified eagerly on submission: no bank statement uploaded, so it comes back with reasons
        assert db.session.get(FinancingRequest, request_id).state == "returned"
        from marketplace.verification.models import VerificationReport

        (report,) = db.session.scalars(select(VerificationReport)).all()
        assert report.request_id == request_id and report.classification == "poor"
        assert db.session.get(Receivable, receivable_id).face_amount == Decimal("300000.00")
    # the audit chain holds on SQLite too
    verify = embedded_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "chain intact" in verify.output


def test_partial_unique_pledge_index_holds_on_sqlite(embedded_app):
    from sqlalchemy.exc import IntegrityError

    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest, RequestPledge
    from tests.factories import ReceivableFactory, make_enterprise_user

    with embedded_app.app_context():
        user = make_enterprise_user()
        receivable = ReceivableFactory(enterprise=user.enterprise)
        for _ in range(2):
            request = FinancingRequest(enterprise_id=user.enterprise.id, amount=Decimal("1"), term_days=1,
                                       purpose="x", created_by_id=user.id)
            request.pledges.append(RequestPledge(receivable_id=receivable.id, active=True))
            db.session.add(request)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


# The bureau dashboard's figures on SQLite: the funnel's flags subquery, the literal region prefix
# and the Python percentiles run there too (issue 13).
def test_the_figures_on_sqlite(embedded_app):
    from marketplace.bureau.dashboard import figures
    from marketplace.extensions import db

    assert "connect_args" not in embedded_app.config["SQLALCHEMY_ENGINE_OPTIONS"]  # jit=off is PostgreSQL's
    today = date.today()
    with embedded_app.test_request_context():
        bureau = _posted_requests("320500", ROWS)
        result = figures(bureau, today - timedelta(days=1), today + timedelta(days=1))
        stages = {s.stage: (s.count, s.amount) for s in result.funnel}
        assert stages["posted"] == (3, Decimal("600000.00"))
        assert stages["verified"] == (2, Decimal("400000.00"))
        assert stages["financed"] == (0, Decimal(0))
        assert result.classification_mix["poor"] == (1, Decimal("200000.00"))
        assert result.grade_distribution == [("A", 0), ("B", 0), ("C", 0), ("D", 0), ("ungraded", 3)]
        # the stay-length histograms (ln and floor in SQLite) and the edge months read from the stays
        from marketplace.bureau import kept
        from marketplace.bureau.models import RequestStay

        stays = db.session.scalars(select(RequestStay).where(RequestStay.seconds.is_not(None),
                                                             RequestStay.region_code.like("3205%"))).all()
        assert stays
        kept.rebuild()
        month_ago = figures(bureau, today - timedelta(days=40), today + timedelta(days=1))
        assert sum(t.count for t in month_ago.turnaround) == len(stays) == sum(t.count for t in result.turnaround)
        db.session.rollback()
        # the grade distribution's latest-row subquery, on SQLite
        graded = figures(graded_region(), today, today)
        assert graded.grade_distribution == [("A", 0), ("B", 1), ("C", 1), ("D", 0), ("ungraded", 2)]
        db.session.rollback()
