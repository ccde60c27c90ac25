"""Every page of the url_map, as every role, in English: no Han characters outside data.

Data is what the database holds as text (names, addresses, purposes, what users typed, documents
stored in Chinese); the page's own words, badges, labels, refusals and notices must come in English.
Pages without URL parameters are fetched as each role; the main parameterised pages (a request with
its offer, loan, guarantee and fee, the enterprise, a product) through the test helpers' cases, as
each party to them. Pages that answer with a redirect, a refusal or a file are not judged here.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import String, Text, select

from marketplace.accounts.roles import Role
from marketplace.enterprises import commitment_text
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.payments.models import Payment
from marketplace.supermarket.models import ProductVersion, RequestTarget
from marketplace.verification.models import VerificationReport
from tests.factories import UserFactory, make_enterprise_user
from tests.guarantees.helpers import accepted as guarantee_accepted
from tests.guarantees.helpers import mixed
from tests.loans.helpers import accepted, repay, scheduled
from tests.test_english_pages import CHINESE, chinese_left, in_english
from workflows import invoices, receivables_file
from workflows.verification.statement_headers import recognised_headers, recognised_labels

# text columns that hold the platform's own words in Chinese, not data: an English page must not show them
NOT_DATA = {("notifications", "title"), ("notifications", "body")}
SKIPPED_PREFIXES = ("/api/", "/static/")
# Chinese the pages show on purpose in every language: the commitment as signed (a legal text, in
# Chinese), the column names and values bank files and the import template carry, and amounts in
# capitals (大写, as on a letter), and the invoice list's column names and the tax bureau's term
# for its e-invoices
KEPT_IN_CHINESE = (commitment_text.TITLE, *commitment_text.BODY.splitlines(),
                   *(name for kind in (recognised_headers(), recognised_labels()) for h in kind for name in h.names),
                   *(name for names in receivables_file.ALIASES.values() for name in names),
                   *receivables_file.CONFIRMATIONS,
                   # the tax bureau's own name of what to download, as the user finds it on its site
                   *(name for names in invoices.ALIASES.values() for name in names), "数电票")
CAPITALS = re.compile(r"^[（]?[零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整]+[）]?$")


def stored_text() -> list[str]:
    """Every Chinese text value the database holds (the pages' data), and what is kept in Chinese."""
    values = {text for text in KEPT_IN_CHINESE if text.strip()}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text) and (table.name, c.name) not in NOT_DATA]
        if columns:
            for row in db.session.execute(select(*columns)):
                values.update(v for v in row if isinstance(v, str) and CHINESE.search(v))
    return sorted(values, key=len, reverse=True)


def get_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.rule.startswith(SKIPPED_PREFIXES)]


def english_problems(client, urls, data) -> list[str]:
    """For each URL the client may see as an HTML page: the Chinese left on it, if any."""
    problems = []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        left = {run for run in chinese_left(response.get_data(as_text=True), *data) if not CAPITALS.match(run)}
        if left:
            problems.append(f"{url}: {sorted(left)[:8]}")
    return problems


def user_for(role: Role):
    return make_enterprise_user(role) if role.startswith("enterprise:") else UserFactory(role=role)


@pytest.mark.parametrize("role", list(Role))
def test_every_page_without_parameters_is_in_english(app, client, login, role):
    user = user_for(role)
    urls = [rule.rule for rule in get_rules(app) if not rule.arguments]
    in_english(client, login, user)
    problems = english_problems(client, urls, stored_text())
    assert problems == [], "\n".join(problems)


def test_the_sign_in_pages_are_in_english(app, client):
    with client.session_transaction() as session:
        session["locale"] = "en"
    urls = [rule.rule for rule in get_rules(app) if not rule.arguments]
    problems = english_problems(client, urls, stored_text())
    assert problems == [], "\n".join(problems)


def parameter_values(request: FinancingRequest) -> dict[str, object]:
    """URL parameters naming the request's own rows."""
    enterprise = request.enterprise
    product = db.session.scalar(select(ProductVersion.product_id).join(RequestTarget).where(
        RequestTarget.request_id == request.id).limit(1))
    report = db.session.scalar(select(VerificationReport.id).where(VerificationReport.request_id == request.id)
                               .order_by(VerificationReport.id.desc()).limit(1))
    payment = db.session.scalar(select(Payment.id).where(Payment.request_id == request.id).limit(1))
    pledge = next(iter(request.active_pledges), None)
    values = {"request_id": request.id, "enterprise_id": enterprise.id, "org_id": enterprise.organisation_id,
              "report_id": report, "payment_id": payment,
              "receivable_id": pledge.receivable_id if pledge else None,
              "product_id": product}
    return {name: value for name, value in values.items() if value is not None}


def parameterised_urls(app, values: dict[str, object]) -> list[str]:
    return [rule.build(values, append_unknown=False)[1] for rule in get_rules(app)
            if rule.arguments and rule.arguments <= values.keys()]


def assert_english_for(app, client, login, request, people) -> None:
    urls = parameterised_urls(app, parameter_values(request))
    data = stored_text()
    problems = []
    for person in people:
        in_english(client, login, person)
        problems += [f"{person.role}: {p}" for p in english_problems(client, urls, data)]
    assert problems == [], "\n".join(problems)


def test_a_request_with_its_offer_and_loan_is_in_english_for_each_party(app, client, login):
    deal = accepted(app)
    loan = scheduled(app, deal)
    repay(app, deal, loan, "1000.00")
    admin, coordinator = UserFactory(role=Role.PLATFORM_ADMIN), UserFactory(role=Role.BUREAU_COORDINATOR)
    assert_english_for(app, client, login, deal.request, [deal.owner, deal.bank, admin, coordinator])


def test_a_guaranteed_request_with_its_fee_is_in_english_for_each_party(app, client, login):
    case, staff = mixed(app)
    guarantee, payment, officer = guarantee_accepted(app, case, staff)
    assert_english_for(app, client, login, case.request, [case.owner, officer])
