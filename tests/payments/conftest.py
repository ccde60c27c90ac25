"""Fees: parties and a request to charge, localstripe (the fake Stripe API) for the session, and
a live server on its own committed database for the tests that need real concurrency."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

import pytest
from werkzeug.serving import make_server

from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.payments import hooks
from tests.conftest import create_database, database_name, drop_database, make_test_config
from tests.factories import OrganisationFactory, UserFactory, make_enterprise_user
from tests.payments.fake_stripe import running_localstripe


@pytest.fixture(scope="session")
def localstripe():
    with running_localstripe() as fake:
        yield fake


@pytest.fixture
def stripe_on(app, localstripe, monkeypatch):
    """Payments through Stripe, i.e. through localstripe, for this test only."""
    for key, value in localstripe.app_config().items():
        monkeypatch.setitem(app.config, key, value)
    return localstripe


@dataclass
class Parties:
    owner: User  # an admin of the paying enterprise
    request: FinancingRequest
    payee: Organisation  # the guarantor the fee is owed to
    payee_staff: User
    other_staff: User  # a guarantor officer of another institution


def make_parties() -> Parties:
    owner = make_enterprise_user()
    request = FinancingRequest(enterprise_id=owner.enterprise.id, amount=Decimal("800000.00"), term_days=180,
                               purpose="采购原材料", state="fee_pending", submitted_at=utcnow(),
                               created_by_id=owner.id)
    db.session.add(request)
    payee = OrganisationFactory(kind=OrgKind.GUARANTOR, name="苏州信保融资担保有限公司", contact="0512-66668888")
    staff = UserFactory(role=Role.GUARANTOR_OFFICER, organisation=payee)
    other = UserFactory(role=Role.GUARANTOR_OFFICER)
    db.session.flush()
    return Parties(owner, request, payee, staff, other)


@pytest.fixture
def parties(app) -> Parties:
    return make_parties()


@pytest.fixture
def paid_calls():
    """Ids of the payments the paid hook was called for (both purposes), in call order."""
    calls: list[int] = []
    lock = threading.Lock()

    def record(payment):
        with lock:
            calls.append(payment.id)

    for purpose in ("guarantee_fee", "service_fee"):
        hooks.register_paid_handler(purpose, record)
    yield calls
    for purpose in ("guarantee_fee", "service_fee"):
        hooks.unregister_paid_handler(purpose, record)


# ---- a live server on its own database, with its own localstripe ---------------------------

@pytest.fixture(scope="session")
def live_localstripe():
    """A second fake API: the webhooks it sends go to the live server only."""
    with running_localstripe() as fake:
        yield fake


@pytest.fixture(scope="session")
def live_app(testrun_uid, worker_id, live_localstripe, tmp_path_factory):
    from flask_migrate import upgrade

    from marketplace import create_app

    name = database_name("payments", testrun_uid, worker_id)
    config = make_test_config(create_database(name), tmp_path_factory)
    config.update(live_localstripe.app_config())
    app = create_app(config, instance_path=str(tmp_path_factory.mktemp("payments-instance")))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()
    drop_database(name)


@pytest.fixture(scope="session")
def live_server(live_app, live_localstripe):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    live_localstripe.register_webhook(f"{base}/payments/stripe/webhook")
    yield base
    server.shutdown()
