"""factory_boy factories shared by every test package: organisations, users, enterprises, receivables.

Rows are flushed into the test's session (rolled back after the test), so ids are set at once.
Identifiers are valid: credit codes carry their GB 32100 check character and resident ID numbers
a real region, a real birth date and their check digit.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import factory
from stdnum.cn import ric

from marketplace.accounts import security
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.db import utcnow
from marketplace.enterprises.models import Consent, Enterprise
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.receivables.models import Receivable
from workflows.identifiers import uscc_check_char

PASSWORD = "Correct-horse-42"


@cache
def password_hash() -> str:
    """One argon2 hash of PASSWORD for every user: hashing per user would slow the suite."""
    return security.hash_password(PASSWORD)


def make_uscc(serial: int, prefix: str = "91320505") -> str:
    """A valid 18-character credit code: an 8-character prefix, 9 serial digits, the check character."""
    body = f"{prefix}{serial % 10**9:09d}"
    return body + uscc_check_char(body)


def make_resident_id(serial: int, region: str = "320505", birth: date = date(1980, 1, 1)) -> str:
    """A valid 18-digit resident ID number: region, birth date, 3-digit order, check digit."""
    body = f"{region}{birth:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731  (the test's session, looked up late)
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    kind = OrgKind.ENTERPRISE
    name = factory.Sequence(lambda n: f"测试机构{n}")
    region_code = "320505"
    active = True
    # a data provider reports one source (a check constraint requires it); no other kind has one
    credit_source = factory.LazyAttribute(lambda o: "tax" if o.kind == OrgKind.PROVIDER else None)


class UserFactory(BaseFactory):
    """A user of an organisation whose kind matches the role (an enterprise role: an enterprise org)."""

    class Meta:
        model = User

    role = Role.ENTERPRISE_APPLICANT
    organisation = factory.SubFactory(
        OrganisationFactory, kind=factory.LazyAttribute(lambda o: Role(o.factory_parent.role).kind)
    )
    email = factory.Sequence(lambda n: f"user{n}@example.cn")
    name = factory.Sequence(lambda n: f"用户{n}")
    password_hash = factory.LazyFunction(password_hash)
    active = True


class EnterpriseFactory(BaseFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"苏州测试{n}科技有限公司")
    organisation = factory.SubFactory(
        OrganisationFactory, kind=OrgKind.ENTERPRISE, name=factory.SelfAttribute("..name")
    )
    uscc = factory.Sequence(make_uscc)
    legal_rep_name = "张三"
    legal_rep_id_number = factory.Sequence(make_resident_id)
    industry_code = "39"
    region_code = "320505"
    park = "苏州工业园区"
    contact_name = "李四"
    contact_phone = "13800000000"


class ReceivableFactory(BaseFactory):
    """A pending receivable issued 30 days ago, due in 60 days, on a debtor with a valid code."""

    class Meta:
        model = Receivable

    enterprise = factory.SubFactory(EnterpriseFactory)
    debtor_name = factory.Sequence(lambda n: f"上海债务人{n}贸易有限公司")
    debtor_uscc = factory.Sequence(lambda n: make_uscc(n, prefix="91310115"))
    invoice_no = factory.Sequence(lambda n: f"{24000000 + n}")
    contract_no = factory.Sequence(lambda n: f"HT-{n}")
    face_amount = Decimal("100000.00")
    issue_date = factory.LazyFunction(lambda: today_shanghai() - timedelta(days=30))
    due_date = factory.LazyFunction(lambda: today_shanghai() + timedelta(days=60))
    confirmation = "pending"
    # Only the debtor's own act answers: a confirmed or disputed one came by the signed link.
    confirmed_via = factory.LazyAttribute(lambda o: None if o.confirmation == "pending" else "link")
    confirmed_at = factory.LazyAttribute(lambda o: None if o.confirmation == "pending" else utcnow())
    dispute_reason = factory.LazyAttribute(lambda o: "金额不符" if o.confirmation == "disputed" else None)


def make_enterprise_user(role: Role = Role.ENTERPRISE_ADMIN, enterprise: Enterprise | None = None,
                         **user_fields) -> User:
    """A user of `enterprise` (a new one when None) with an enterprise role; user.enterprise works."""
    enterprise = enterprise or EnterpriseFactory()
    return UserFactory(role=role, organisation=enterprise.organisation, **user_fields)


def grant_consent_to(enterprise: Enterprise, *institution_ids: int, scopes=("bank_statements",),
                     valid_from: date | None = None, valid_to: date | None = None,
                     purposes=("financing_review", "guarantee_review")) -> list[Consent]:
    """The enterprise consents to each institution reading `scopes` (bank statements: a request may
    be routed to it), valid from yesterday for a year unless told otherwise. Rows only: no signal."""
    today = today_shanghai()
    admin = next((u for u in enterprise.organisation.users if u.role == Role.ENTERPRISE_ADMIN), None) \
        or UserFactory(role=Role.ENTERPRISE_ADMIN, organisation=enterprise.organisation)
    consents = [Consent(enterprise_id=enterprise.id, grantee_org_id=institution_id, scopes=sorted(scopes),
                        purpose="融资申请审查", purposes=sorted(purposes),
                        valid_from=valid_from or today - timedelta(days=1),
                        valid_to=valid_to or today + timedelta(days=365), granted_by_id=admin.id)
                for institution_id in institution_ids]
    db.session.add_all(consents)
    db.session.flush()
    return consents
