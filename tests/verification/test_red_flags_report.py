"""Red flags in the platform's reports (issue 11 item 7): stored with the report and its
thresholds, shown on the enterprise's and the institution's page and in the PDF, lowering the
class only when the policy in force says so; reports stored before red flags still render."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from markupsafe import escape

from marketplace import demo_statements
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.statements.services import import_statement
from marketplace.verification import policies
from marketplace.verification.models import VerificationReport
from marketplace.verification.services import reports_of
from tests.factories import UserFactory
from tests.verification.cases import DEBTORS, build, submit


def round_trip_statement(holder: str) -> bytes:
    """A second account's statement: ¥300,000 paid to a debtor and back from it three days later,
    in the last whole month before today."""
    first = (today_shanghai().replace(day=1) - timedelta(days=1)).replace(day=3)
    rows = [
        demo_statements.Row(datetime(first.year, first.month, 3, 10), Decimal("-300000.00"), DEBTORS[0], "",
                            "往来款", Decimal("700000.00")),
        demo_statements.Row(datetime(first.year, first.month, 6, 15), Decimal("300000.00"), DEBTORS[0], "",
                            "货款", Decimal("1000000.00")),
    ]
    return demo_statements.signed_csv(holder, "6222029999888877776", rows)[1]


def verified(app, *, round_trip: bool):
    """An excellent-by-the-table request, with a round trip to a debtor when asked, submitted."""
    case = build(app, "excellent")
    if round_trip:
        with app.test_request_context():
            enterprise = case.owner.enterprise
            import_statement(enterprise, case.owner, round_trip_statement(enterprise.name), "往来.csv")
            db.session.commit()
    submit(app, case)
    (case.report,) = reports_of(case.request.id)
    return case


def page(client, case, report=None, suffix="", institution=False):
    report = report or case.report
    base = "/institution/requests" if institution else "/financing"
    return client.get(f"{base}/{case.request.id}/reports/{report.id}{suffix}")


def test_a_clean_report_stores_no_flag_and_says_so(app, client, login):
    case = verified(app, round_trip=False)
    payload = case.report.payload
    assert payload["red_flags"] == [] and case.report.classification == "excellent"
    assert case.report.thresholds["red_flags_affect_class"] is False
    login(case.owner)
    html = page(client, case).get_data(as_text=True)
    assert 'data-testid="red-flags-none"' in html and "未发现资金流向红旗" in html
    assert "红旗仅作提示，不改变核验结论" in html
    assert 'data-testid="threshold-red_flags_affect_class"' in html


def test_a_round_trip_is_stored_and_shown_to_the_enterprise_the_bank_and_in_the_pdf(app, client, login):
    case = verified(app, round_trip=True)
    (flag,) = case.report.payload["red_flags"]
    assert (flag["code"], flag["level"], flag["numbers"]["pairs"]) == ("F1", "high", 1)
    assert flag["numbers"]["out_total"] == "300000.00" and flag["numbers"]["in_total"] == "300000.00"
    assert case.report.classification == "excellent"  # the default policy: flags do not change the class
    assert any(r.startswith("红旗F1（资金回流）") for r in case.report.payload["reasons_zh"])

    login(case.owner)
    html = page(client, case).get_data(as_text=True)
    assert 'data-testid="red-flag-F1" data-level="high"' in html and flag["reason_zh"] in html
    assert "高风险" in html and "badge-bad" in html
    pdf = page(client, case, suffix=".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    with client.session_transaction() as session:
        session["locale"] = "en"
    assert str(escape(flag["reason_en"])) in page(client, case).get_data(as_text=True)

    login(case.bank_staff)
    with client.session_transaction() as session:
        session["locale"] = "zh"
    bank_view = page(client, case, institution=True)
    assert bank_view.status_code == 200
    assert 'data-testid="red-flag-F1"' in bank_view.get_data(as_text=True)
    assert page(client, case, suffix=".pdf", institution=True).data.startswith(b"%PDF")


def test_with_the_setting_on_the_round_trip_makes_the_request_mixed(app):
    with app.test_request_context():
        admin = UserFactory(role=Role.PLATFORM_ADMIN)
        policies.create_policy_version(admin, "2026.9", today_shanghai(), {"red_flags_affect_class": "true"})
        db.session.commit()
    case = verified(app, round_trip=True)
    assert case.report.policy_version == "2026.9"
    assert case.report.thresholds["red_flags_affect_class"] is True
    assert case.report.classification == "mixed" and case.request.classification == "mixed"
    assert "出现资金流向红旗1项，按核验策略不能评为优质" in case.report.payload["reasons_zh"][0]
    clean = verified(app, round_trip=False)
    assert clean.report.classification == "excellent"


@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_a_report_stored_before_red_flags_still_renders(app, client, login, suffix):
    case = verified(app, round_trip=False)
    old = case.report
    payload = {k: v for k, v in old.payload.items() if k != "red_flags"}
    payload["thresholds"] = {k: v for k, v in payload["thresholds"].items()
                             if not k.startswith(("round_trip", "same_day", "burst", "red_flag"))}
    legacy = VerificationReport(
        request_id=old.request_id, enterprise_id=old.enterprise_id, submission_no=old.submission_no + 1,
        as_of=old.as_of, classification=old.classification, policy_version=old.policy_version,
        policy_effective_from=old.policy_effective_from, thresholds=payload["thresholds"],
        inputs_sha256=old.inputs_sha256, statement_sha256s=old.statement_sha256s,
        receivables_sha256=old.receivables_sha256, requested_amount=old.requested_amount,
        pledged_amount=old.pledged_amount, payload=payload)
    db.session.add(legacy)
    db.session.commit()
    login(case.owner)
    response = page(client, case, legacy, suffix)
    assert response.status_code == 200
    if suffix:
        assert response.data.startswith(b"%PDF")
    else:
        html = response.get_data(as_text=True)
        assert 'data-testid="red-flags-not-checked"' in html and 'data-testid="red-flag-' not in html
