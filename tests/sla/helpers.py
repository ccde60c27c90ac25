"""A financing request moved through the workflow at chosen moments, with the people around it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from marketplace.accounts.models import User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.enterprises.services import sign_commitment
from marketplace.extensions import db
from marketplace.financing import services as financing
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import SHANGHAI
from marketplace.supermarket import services as products
from marketplace.supermarket.models import RequestTarget
from tests.factories import ReceivableFactory, UserFactory, grant_consent_to, make_enterprise_user

EXCELLENT = {"classification": "excellent", "route_targets": 1}


def sh(text: str) -> datetime:
    """A moment in Beijing time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Clock:
    """Stands in for utcnow() in the financing services, so transitions happen when a test says."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def staff(role: Role, institution=None, **fields) -> User:
    if institution is not None:
        fields["organisation"] = institution
    return UserFactory(role=role, **fields)


def bank_product(officer: User):
    terms = products.Terms(name=f"{officer.organisation.name}贷", product_type="receivable_pledge", description="",
                           amount_min=Decimal("100000"), amount_max=Decimal("5000000"), term_min_days=30,
                           term_max_days=360, rate_min=Decimal("3.50"), rate_max=Decimal("5.50"))
    made = products.create_product(officer.organisation, officer, terms)
    products.publish_product(made, officer)
    return made


@dataclass
class Scene:
    """An enterprise's request, the bank holding it (officer and approver), a bank that declined,
    a guarantor, bureau coordinators in and out of the enterprise's region, a platform admin."""

    clock: Clock
    request: FinancingRequest
    owner: User
    colleague: User
    officer: User
    approver: User
    declined_officer: User
    guarantor_officer: User
    local_bureau: User
    province_bureau: User
    distant_bureau: User
    platform_admin: User
    targets: dict[str, RequestTarget] = field(default_factory=dict)

    def move(self, name: str, at: datetime, user=None, **kwargs):
        """Apply one transition at `at` (the timeline event carries the same moment)."""
        self.clock.now = at
        event = financing.apply_transition(self.request, name, user, **kwargs)
        event.occurred_at = at
        db.session.flush()
        return event

    def into_bank_review(self, at: datetime) -> None:
        for name in ("start_verification", "complete_verification"):
            self.move(name, at)
        self.move("route_to_bank", at, facts=EXCELLENT)
        self.targets["bank"].status = "routed"
        self.targets["bank"].routed_at = at
        self.move("start_bank_review", at, self.officer)
        self.targets["bank"].status = "reviewing"


def make_scene(monkeypatch, submitted_at: datetime) -> Scene:
    """Call inside a request context; the request is submitted at `submitted_at`."""
    clock = Clock(submitted_at)
    monkeypatch.setattr(financing, "utcnow", clock)
    owner = make_enterprise_user()
    colleague = make_enterprise_user(role=Role.ENTERPRISE_APPLICANT, enterprise=owner.enterprise)
    make_enterprise_user()  # another enterprise's user: never told
    sign_commitment(owner.enterprise, owner, owner.name, None)
    receivable = ReceivableFactory(enterprise=owner.enterprise, face_amount=Decimal("2000000"),
                                   confirmation="confirmed")
    request = financing.create_request(owner.enterprise, owner, amount=Decimal("1000000"), term_days=90,
                                       purpose="采购原材料", receivable_ids=[receivable.id])
    officer = staff(Role.BANK_OFFICER, organisation__name="苏州测试银行", organisation__kind=OrgKind.BANK)
    approver = staff(Role.BANK_APPROVER, officer.organisation)
    declined_officer = staff(Role.BANK_OFFICER, organisation__name="另一家银行")
    guarantor_officer = staff(Role.GUARANTOR_OFFICER, organisation__name="测试担保公司")
    scene = Scene(
        clock=clock, request=request, owner=owner, colleague=colleague, officer=officer, approver=approver,
        declined_officer=declined_officer, guarantor_officer=guarantor_officer,
        local_bureau=staff(Role.BUREAU_COORDINATOR, organisation__region_code="320500"),   # Suzhou
        province_bureau=staff(Role.BUREAU_COORDINATOR, organisation__region_code="320000"),  # Jiangsu
        distant_bureau=staff(Role.BUREAU_COORDINATOR, organisation__region_code="110000"),   # Beijing
        platform_admin=staff(Role.PLATFORM_ADMIN),
    )
    grant_consent_to(owner.enterprise, officer.organisation_id, declined_officer.organisation_id,
                     guarantor_officer.organisation_id)
    for key, person, status in (("bank", officer, "chosen"), ("declined", declined_officer, "declined"),
                                ("guarantor", guarantor_officer, "chosen")):
        version = bank_product(person).current_version
        target = RequestTarget(request_id=request.id, product_version_id=version.id,
                               institution_id=person.organisation_id, rank=len(scene.targets) + 1,
                               chosen_by="enterprise", status=status,
                               routed_at=submitted_at if status != "chosen" else None)
        db.session.add(target)
        scene.targets[key] = target
    db.session.flush()
    scene.move("submit", submitted_at, owner)
    return scene
