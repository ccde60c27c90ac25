"""Routing targets chosen at submission (the enterprise's picks or the top matches), the
statistics they feed, and the pushes: new matches to enterprises, leads to institutions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind, Role
from marketplace.enterprises.services import grant_consent, sign_commitment
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.financing.services import apply_transition, create_request
from marketplace.formatting import today_shanghai
from marketplace.notifications.models import Notification
from marketplace.supermarket import pushes
from marketplace.supermarket import services as products
from marketplace.supermarket.models import RequestTarget
from tests.factories import ReceivableFactory, UserFactory, grant_consent_to, make_enterprise_user


def lender(name: str, kind=OrgKind.BANK):
    staff = UserFactory(role=Role.BANK_OFFICER if kind == OrgKind.BANK else Role.GUARANTOR_OFFICER,
                        organisation=Organisation(kind=kind, name=name))
    return staff


def product(staff, name, rate="4.00", amount_max="5000000", publish=True, **overrides):
    terms = products.Terms(name=name, product_type="receivable_pledge", description="", amount_min=Decimal("100000"),
                           amount_max=Decimal(amount_max), term_min_days=30, term_max_days=360,
                           rate_min=Decimal(rate), rate_max=Decimal(rate) + 2, **overrides)
    made = products.create_product(staff.organisation, staff, terms)
    if publish:
        products.publish_product(made, staff)
    return made


@pytest.fixture
def world(app):
    """An enterprise with a signed commitment and a draft request, and four lenders' products;
    the enterprise consents to banks 1-3 reading its statements, not to bank 0 (the cheapest)."""
    with app.test_request_context():
        owner = make_enterprise_user()
        sign_commitment(owner.enterprise, owner, owner.name, None)
        rcv = ReceivableFactory(enterprise=owner.enterprise, face_amount=Decimal("2000000"), confirmation="confirmed")
        request = create_request(owner.enterprise, owner, amount=Decimal("1000000"), term_days=90, purpose="采购",
                                 receivable_ids=[rcv.id])
        banks = [lender(f"银行{i}") for i in range(4)]
        made = [product(staff, f"产品{i}", rate=f"{3 + i}.50") for i, staff in enumerate(banks)]
        too_small = product(banks[0], "小额产品", amount_max="500000")
        grant_consent_to(owner.enterprise, *(b.organisation_id for b in banks[1:]))
        db.session.commit()
    return {"owner": owner, "request": request, "banks": banks, "products": made, "too_small": too_small}


def test_without_picks_the_request_goes_to_the_top_three_institutions(app, client, login, world, worker_idle):
    request = world["request"]
    login(world["owner"])
    client.post(f"/financing/{request.id}/submit", data={"version": request.version})
    targets = db.session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id)
                                 .order_by(RequestTarget.rank)).all()
    assert request.state == "submitted"
    # cheapest first, among the banks holding the enterprise's consent: bank 0 is passed over
    assert [t.institution_id for t in targets] == [b.organisation_id for b in world["banks"][1:]]
    assert {t.chosen_by for t in targets} == {"match"}


def test_enterprise_picks_its_own_products(app, client, login, world):
    request, chosen = world["request"], world["products"][3]
    login(world["owner"])
    client.post(f"/financing/{request.id}/submit", data={"version": request.version, "products": [chosen.id]})
    (target,) = db.session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id)).all()
    assert target.product_version_id == chosen.current_version_id and target.chosen_by == "enterprise"


def test_an_ineligible_pick_is_refused_with_the_reason(app, client, login, world):
    request = world["request"]
    login(world["owner"])
    page = client.post(f"/financing/{request.id}/submit", data={"version": request.version,
                                                                 "products": [world["too_small"].id]},
                       follow_redirects=True).get_data(as_text=True)
    assert request.state == "draft" and "不适合本申请" in page and "500,000.00" in page


def test_more_than_three_picks_are_refused(app, client, login, world):
    request = world["request"]
    login(world["owner"])
    client.post(f"/financing/{request.id}/submit", data={"version": request.version,
                                                         "products": [p.id for p in world["products"]]})
    assert request.state == "draft"


def test_submission_counts_matches_and_applications(app, client, login, world):
    request = world["request"]
    login(world["owner"])
    client.post(f"/financing/{request.id}/submit", data={"version": request.version,
                                                         "products": [world["products"][1].id]})
    assert products.stats_totals(world["products"][1].id) == {"views": 0, "matches": 1, "applications": 1}
    assert products.stats_totals(world["products"][2].id)["applications"] == 0
    assert products.stats_totals(world["too_small"].id)["matches"] == 0


def test_matches_page_explains_every_product(app, client, login, world):
    login(world["owner"])
    page = client.get(f"/financing/{world['request'].id}/matches").get_data(as_text=True)
    assert page.count('data-testid="match-card"') == 5
    assert "500,000.00" in page  # the too-small product says why it fails


def test_another_enterprise_cannot_see_the_matches(client, login, world):
    login(make_enterprise_user())
    assert client.get(f"/financing/{world['request'].id}/matches").status_code == 404


def verify(app, request, classification="excellent"):
    with app.test_request_context():
        apply_transition(request, "start_verification")
        apply_transition(request, "complete_verification")
        matches = pushes.on_request_verified(request)
        db.session.commit()
    return matches


def test_verification_tells_the_enterprise_about_its_matches_once(app, world):
    request = world["request"]
    with app.test_request_context():
        apply_transition(request, "submit", world["owner"])
    verify(app, request)
    with app.test_request_context():
        pushes.on_request_verified(request)
        db.session.commit()
    notes = db.session.scalars(select(Notification).where(Notification.user_id == world["owner"].id)).all()
    assert len(notes) == 1 and "4 个产品" in notes[0].body


def test_a_newly_published_product_is_pushed_to_fitting_verified_requests(app, world):
    request = world["request"]
    with app.test_request_context():
        apply_transition(request, "submit", world["owner"])
    verify(app, request)
    with app.test_request_context():
        newcomer = product(world["banks"][1], "新上架产品", publish=False)
        products.publish_product(newcomer, world["banks"][1])
        assert pushes.on_product_published(newcomer) == 1
        unfit = product(world["banks"][1], "不合适产品", amount_max="200000", publish=False)
        products.publish_product(unfit, world["banks"][1])
        assert pushes.on_product_published(unfit) == 0
        db.session.commit()
    kinds = {n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == world["owner"].id))}
    assert f"match.product.{newcomer.id}" in kinds and f"match.product.{unfit.id}" not in kinds


def test_leads_show_fitting_verified_requests_only_with_consent(app, world):
    request, bank = world["request"], world["banks"][0]
    with app.test_request_context():
        apply_transition(request, "submit", world["owner"])
    verify(app, request)
    assert pushes.leads_for(bank.organisation_id) == []  # no consent yet
    with app.test_request_context():
        today = today_shanghai()
        grant_consent(world["owner"].enterprise, world["owner"], grantee_org_id=bank.organisation_id,
                      scopes=["bank_statements"], purpose="融资审查", valid_from=today,
                      valid_to=today + timedelta(days=30))
        db.session.commit()
    (lead,) = pushes.leads_for(bank.organisation_id)
    assert lead.request.id == request.id and lead.match.eligible
    assert db.session.get(FinancingRequest, request.id).state == "verified"


def test_lead_page_lists_the_request_and_logs_the_read(app, client, login, world):
    from marketplace.audit import AuditEvent

    request, bank = world["request"], world["banks"][0]
    with app.test_request_context():
        apply_transition(request, "submit", world["owner"])
        today = today_shanghai()
        grant_consent(world["owner"].enterprise, world["owner"], grantee_org_id=bank.organisation_id,
                      scopes=["bank_statements"], purpose="融资审查", valid_from=today, valid_to=today)
    verify(app, request)
    login(bank)
    page = client.get("/institution/leads/").get_data(as_text=True)
    assert page.count('data-testid="lead-row"') == 1 and world["owner"].enterprise.name in page
    read = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit_data.read",
                                                      AuditEvent.object_type == "financing_lead"))
    assert read.enterprise_id == world["owner"].enterprise.id and read.actor_org_id == bank.organisation_id


def test_publishing_from_the_desk_pushes_the_new_match(app, client, login, world):
    request, bank = world["request"], world["banks"][2]
    with app.test_request_context():
        apply_transition(request, "submit", world["owner"])
    verify(app, request)
    with app.test_request_context():
        draft = product(bank, "柜台新产品", publish=False)
        db.session.commit()
    login(bank)
    client.post(f"/institution/products/{draft.id}/publish")
    assert draft.state == "published"
    note = db.session.scalar(select(Notification).where(Notification.kind == f"match.product.{draft.id}"))
    assert note is not None and note.user_id == world["owner"].id
