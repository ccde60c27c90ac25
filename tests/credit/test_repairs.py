"""Credit repair (信用修复): negative records of one's own enterprise only, one application in review
per record, a configurable review period; the region's coordinator or the platform decides; an
approved repair takes the record out of every institution's view and regrades."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import OrgKind
from marketplace.credit import grading, repairs
from marketplace.credit.access import visible_to
from marketplace.credit.models import CreditEvidence, CreditRecord, RepairApplication
from marketplace.credit.objections import CreditRequestRefused
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests.credit.test_objections import add_record, count, make_case, pdf
from tests.factories import OrganisationFactory, grant_consent_to

FILED = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def case(ctx):
    return make_case()


@pytest.fixture
def regrades(monkeypatch):
    calls = []
    monkeypatch.setattr(grading, "schedule_recompute", lambda enterprise_id, trigger: calls.append((enterprise_id,
                                                                                                  trigger)))
    return calls


def test_applying_stores_the_commitment_evidence_and_a_due_day_from_the_configuration(case, app):
    application = repairs.apply_for_repair(case["record"], case["user"], "已缴清欠税并承诺按期申报", [pdf()], now=FILED)
    assert application.is_open and application.due_on == date(2026, 11, 1 + app.config["CREDIT_REPAIR_REVIEW_DAYS"])
    assert [e.original_name for e in application.evidence] == ["缴税凭证.pdf"]
    assert repairs.repairs_for(case["enterprise"].id) == [application]
    assert case["record"].status == "active"  # nothing changes until decided
    assert count(Notification, Notification.user_id == case["suzhou"].id, Notification.kind == "credit.repair_filed") == 1


def test_the_review_period_is_configuration(case, app, monkeypatch):
    monkeypatch.setitem(app.config, "CREDIT_REPAIR_REVIEW_DAYS", 5)
    application = repairs.apply_for_repair(case["record"], case["user"], "承诺", now=FILED)
    assert application.due_on == date(2026, 11, 6)


def test_a_positive_record_another_enterprises_record_or_a_second_application_is_refused(case):
    paid = add_record(case["enterprise"], case["tax"].organisation, "P-1", kind="tax_paid", polarity="positive")
    with pytest.raises(CreditRequestRefused, match="只有负面记录"):
        repairs.apply_for_repair(paid, case["user"], "承诺")
    with pytest.raises(CreditRequestRefused, match="只能对本企业"):
        repairs.apply_for_repair(case["record"], case["other_user"], "承诺", [pdf()])
    with pytest.raises(CreditRequestRefused, match="请填写信用修复承诺"):
        repairs.apply_for_repair(case["record"], case["user"], "  ")
    assert count(RepairApplication) == 0 and count(CreditEvidence) == 0
    repairs.apply_for_repair(case["record"], case["user"], "承诺")
    with pytest.raises(CreditRequestRefused, match="已有审核中"):
        repairs.apply_for_repair(case["record"], case["user"], "再次申请")
    assert count(RepairApplication) == 1


def test_approval_takes_the_record_out_of_a_consented_institutions_view_and_regrades(case, regrades):
    bank = OrganisationFactory(kind=OrgKind.BANK, name="苏州测试银行")
    grant_consent_to(case["enterprise"], bank.id, scopes=("tax",))
    record = case["record"]

    def bank_sees() -> set[int]:
        return set(db.session.scalars(select(CreditRecord.id).where(visible_to(bank))))

    assert record.id in bank_sees()
    application = repairs.apply_for_repair(record, case["user"], "已缴清并承诺守信", [pdf()])
    repairs.decide_repair(application, case["suzhou"], True, "材料齐全，同意修复")
    assert record.status == "repaired" and application.decision == "approved" and not application.is_open
    assert record.id not in bank_sees()
    assert record.id in set(db.session.scalars(select(CreditRecord.id).where(
        visible_to(case["enterprise"].organisation))))  # the enterprise still sees its whole file
    assert regrades == [(case["enterprise"].id, "repair")]
    assert count(Notification, Notification.user_id == case["user"].id, Notification.kind == "credit.repair_decided") == 1


def test_rejection_keeps_the_record_and_does_not_regrade(case, regrades):
    application = repairs.apply_for_repair(case["record"], case["user"], "承诺")
    repairs.decide_repair(application, case["admin"], False, "未提供缴款凭证")
    assert case["record"].status == "active" and application.decision == "rejected" and regrades == []
    with pytest.raises(CreditRequestRefused, match="已经审核过了"):
        repairs.decide_repair(application, case["admin"], True, "改判")


def test_only_a_coordinator_of_the_region_or_the_platform_decides(case, regrades):
    application = repairs.apply_for_repair(case["record"], case["user"], "承诺")
    for outsider in (case["shanghai"], case["tax"], case["user"]):
        with pytest.raises(CreditRequestRefused, match="辖区"):
            repairs.decide_repair(application, outsider, True, "同意")
    with pytest.raises(CreditRequestRefused, match="请填写审核意见"):
        repairs.decide_repair(application, case["suzhou"], True, "")
    assert application.is_open and case["record"].status == "active"
