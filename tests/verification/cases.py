"""Requests that verify to each class, built through the services: an enterprise with a signed
commitment, a year of bank statements in which its debtors pay it, receivables on those debtors,
and published products of a bank and a guarantor that fit, each holding the enterprise's consent
to read its bank statements."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from marketplace import demo_statements
from marketplace.accounts.roles import Role
from marketplace.enterprises.services import sign_commitment
from marketplace.financing import services as financing
from marketplace.formatting import today_shanghai
from marketplace.statements.services import import_statement
from tests.factories import ReceivableFactory, grant_consent_to, make_enterprise_user, make_uscc
from tests.supermarket.products import lender, make_product

DEBTORS = ("上海华东机电集团有限公司", "杭州西子装备制造有限公司")


@dataclass
class Case:
    owner: object
    request: object
    bank_staff: object | None = None
    guarantor_staff: object | None = None


def statement_bytes(holder: str, payers: list[tuple[str, str]], seed: int = 7, scale: int = 1_200_000) -> bytes:
    """Twelve whole months before this one, in the signed-amount CSV layout."""
    last_month = today_shanghai().replace(day=1) - timedelta(days=1)
    rows = demo_statements.transactions(random.Random(seed), demo_statements.month_starts(last_month), payers, scale)
    return demo_statements.signed_csv(holder, "6222021234567890123", rows)[1]


def institutions(app) -> tuple[object, object]:
    """A bank and a guarantor, each with one published product that fits the cases' requests."""
    bank_staff = lender(Role.BANK_OFFICER, name="测试银行苏州分行")
    guarantor_staff = lender(Role.GUARANTOR_OFFICER, name="测试融资担保有限公司")
    make_product(app, bank_staff, name="应收账款质押贷")
    make_product(app, guarantor_staff, name="中小企业融资担保", product_type="guaranteed_loan")
    return bank_staff, guarantor_staff


def build(app, classification: str, *, with_products: bool = True, consent_to=()) -> Case:
    """A draft request that verifies as `classification` (excellent, mixed or poor). The
    enterprise consents to the case's own institutions and to those of `consent_to` (ids)."""
    bank_staff = guarantor_staff = None
    if with_products:
        bank_staff, guarantor_staff = institutions(app)
    owner = make_enterprise_user()
    enterprise = owner.enterprise
    own = (bank_staff.organisation_id, guarantor_staff.organisation_id) if with_products else ()
    grant_consent_to(enterprise, *own, *consent_to)  # requests go only to institutions holding one
    with app.test_request_context():
        sign_commitment(enterprise, owner, owner.name, "127.0.0.1")
        if classification != "poor":  # poor: no statements, so the cash flow cannot be judged (H0)
            data = statement_bytes(enterprise.name, [(DEBTORS[0], "regular"), (DEBTORS[1], "regular")])
            import_statement(enterprise, owner, data, "statement.csv")
        confirmations = {"excellent": ("confirmed", "confirmed"), "mixed": ("confirmed", "pending"),
                         "poor": ("confirmed", "confirmed")}[classification]
        receivables = [
            ReceivableFactory(enterprise=enterprise, debtor_name=name, debtor_uscc=make_uscc(900 + i, prefix="91310000"),
                              face_amount=Decimal("150000.00"), confirmation=confirmation)
            for i, (name, confirmation) in enumerate(zip(DEBTORS, confirmations, strict=True))
        ]
        request = financing.create_request(enterprise, owner, amount=Decimal("250000.00"), term_days=90,
                                           purpose="采购原材料", receivable_ids=[r.id for r in receivables])
    return Case(owner, request, bank_staff, guarantor_staff)


def submit(app, case: Case, product_ids=None) -> None:
    with app.test_request_context():
        financing.submit_request(case.request, case.owner, product_ids)
        from marketplace.extensions import db

        db.session.commit()
