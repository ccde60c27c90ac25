"""Objections (异议): filing marks the record at once; refusals store nothing; the record's provider
or the platform answers with an outcome that changes the record and regrades; the 20-calendar-day
clock escalates to the region's bureau on day 15 (a fixed clock: `now`/`today` given), once."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from marketplace.accounts.roles import OrgKind, Role
from marketplace.audit import AuditEvent
from marketplace.credit import grading, objections
from marketplace.credit.models import CreditEvidence, CreditObjection, CreditRecord
from marketplace.credit.objection_tasks import escalate_objections
from marketplace.credit.objections import CreditRequestRefused
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.notifications.models import Notification
from marketplace.payments.models import Payment
from tests.credit.conftest import make_provider
from tests.factories import (
    EnterpriseFactory,
    OrganisationFactory,
    UserFactory,
    make_enterprise_user,
)

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
# 2026-11-01 10:00 in Shanghai: the filing day is 2026-11-01, day 15 is 2026-11-16, due 2026-11-21
FILED = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def pdf(name: str = "缴税凭证.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(PDF), filename=name, content_type="application/pdf")


def add_record(enterprise, provider_org, record_id: str = "T-1", *, kind: str = "tax_arrears",
               polarity: str = "negative", source: str = "tax", status: str = "active") -> CreditRecord:
    row = CreditRecord(enterprise_id=enterprise.id, provider_org_id=provider_org.id, source=source,
                       provider_record_id=record_id, kind=kind, polarity=polarity, title=f"欠缴税款 {record_id}",
                       amount=Decimal("12000.50"), occurred_on=today_shanghai() - timedelta(days=60), details={},
                       received_at=utcnow(), payload_digest="0" * 64, status=status)
    db.session.add(row)
    db.session.flush()
    return row


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def make_case() -> dict:
    """An enterprise in 320505 with a user and a tax record; another enterprise; the tax provider
    and a court provider; coordinators of Suzhou (covers it) and Shanghai (does not); an admin."""
    tax = make_provider("tax", "苏州市税务局")
    court = make_provider("court", "苏州市中级人民法院")
    enterprise = EnterpriseFactory(region_code="320505")
    user = make_enterprise_user(enterprise=enterprise)
    other = EnterpriseFactory()
    other_user = make_enterprise_user(enterprise=other)
    suzhou = UserFactory(role=Role.BUREAU_COORDINATOR,
                         organisation=OrganisationFactory(kind=OrgKind.BUREAU, name="苏州市金融工作局",
                                                          region_code="320500"))
    shanghai = UserFactory(role=Role.BUREAU_COORDINATOR,
                           organisation=OrganisationFactory(kind=OrgKind.BUREAU, name="上海市金融工作局",
                                                            region_code="310000"))
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    record = add_record(enterprise, tax.organisation)
    return {"tax": tax, "court": court, "enterprise": enterprise, "user": user, "other": other,
            "other_user": other_user, "suzhou": suzhou, "shanghai": shanghai, "admin": admin, "record": record}


@pytest.fixture
def case(ctx):
    return make_case()


@pytest.fixture
def regrades(monkeypatch):
    calls = []
    monkeypatch.setattr(grading, "schedule_recompute", lambda enterprise_id, trigger: calls.append((enterprise_id,
                                                                                                  trigger)))
    return calls


def test_filing_marks_the_record_objected_at_once_with_a_20_day_clock_and_evidence(case, regrades):
    record = case["record"]
    objection = objections.file_objection(record, case["user"], "该笔税款已于上月缴清", [pdf()], now=FILED)
    assert record.status == "objected"
    assert (objection.filed_on, objection.due_on) == (date(2026, 11, 1), date(2026, 11, 21))
    assert [e.original_name for e in objection.evidence] == ["缴税凭证.pdf"]
    assert objection.evidence[0].content_type == "application/pdf"
    assert objections.open_objections_by_record([record.id]) == {record.id: objection}
    assert objections.objections_for(case["enterprise"].id) == [objection]
    assert count(AuditEvent, AuditEvent.action == "credit.objection_filed") == 1
    assert count(Notification, Notification.user_id == case["tax"].id, Notification.kind == "credit.objection_filed") == 1
    assert count(Payment) == 0  # nothing about an objection is charged


def test_a_second_open_objection_on_the_same_record_is_refused_and_nothing_stored(case, regrades):
    objections.file_objection(case["record"], case["user"], "金额有误")
    with pytest.raises(CreditRequestRefused, match="已有处理中的异议"):
        objections.file_objection(case["record"], case["user"], "再次提出", [pdf()])
    assert count(CreditObjection) == 1 and count(CreditEvidence) == 0


def test_the_database_allows_one_open_objection_per_record(case, regrades):
    objections.file_objection(case["record"], case["user"], "金额有误")
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(CreditObjection(record_id=case["record"].id, enterprise_id=case["enterprise"].id,
                                       filed_by_id=case["user"].id, reason="绕过服务", filed_on=date(2026, 11, 1),
                                       due_on=date(2026, 11, 21)))
        db.session.flush()


def test_an_objection_on_another_enterprises_record_is_refused_and_nothing_stored(case, regrades):
    with pytest.raises(CreditRequestRefused, match="只能对本企业的信用记录提出异议"):
        objections.file_objection(case["record"], case["other_user"], "不是我的记录", [pdf()])
    with pytest.raises(CreditRequestRefused):  # staff of an institution cannot file either
        objections.file_objection(case["record"], case["admin"], "代为提出")
    assert count(CreditObjection) == 0 and count(CreditEvidence) == 0 and case["record"].status == "active"
    assert regrades == []


@pytest.mark.parametrize("reason, message", [("", "请填写异议理由"), ("   ", "请填写异议理由"), ("字" * 2001, "不能超过")])
def test_an_empty_or_too_long_reason_is_refused(case, reason, message):
    with pytest.raises(CreditRequestRefused, match=message):
        objections.file_objection(case["record"], case["user"], reason)
    assert count(CreditObjection) == 0 and case["record"].status == "active"


def test_evidence_that_is_not_a_pdf_or_image_is_refused_and_nothing_stored(case):
    fake = FileStorage(stream=io.BytesIO(b"MZ\x90\x00 not a pdf"), filename="凭证.pdf")
    with pytest.raises(CreditRequestRefused, match="凭证.pdf"):
        objections.file_objection(case["record"], case["user"], "已缴清", [fake])
    assert count(CreditObjection) == 0 and case["record"].status == "active"


def test_a_provider_of_another_source_cannot_answer(case, regrades):
    objection = objections.file_objection(case["record"], case["user"], "已缴清")
    with pytest.raises(CreditRequestRefused, match="数据提供单位或平台管理员"):
        objections.answer_objection(objection, case["court"], "removed", "不是我们的记录")
    with pytest.raises(CreditRequestRefused):
        objections.answer_objection(objection, case["suzhou"], "removed", "督办单位不能答复")
    assert objection.is_open and case["record"].status == "objected"


def test_corrected_applies_the_fields_sets_the_record_active_and_regrades(case, regrades):
    record = case["record"]
    objection = objections.file_objection(record, case["user"], "金额应为 2000 元")
    answered = objections.answer_objection(objection, case["tax"], "corrected", "经核实，金额更正为 2000.00 元。",
                                           {"amount": "2000", "title": "2026年第三季度增值税欠缴（更正）"})
    assert (record.status, record.amount, record.title) == ("active", Decimal("2000.00"), "2026年第三季度增值税欠缴（更正）")
    assert answered.outcome == "corrected" and answered.answering_org_id == case["tax"].organisation_id
    assert answered.corrections["amount"] == ["12000.50", "2000.00"]
    assert answered.closed_at is not None and objections.open_objection(record.id) is None
    assert regrades == [(case["enterprise"].id, "objection"), (case["enterprise"].id, "objection")]
    assert count(Notification, Notification.user_id == case["user"].id,
                 Notification.kind == "credit.objection_answered") == 1


def test_removed_by_a_platform_admin_removes_the_record_and_regrades(case, regrades):
    objection = objections.file_objection(case["record"], case["user"], "重复记录")
    objections.answer_objection(objection, case["admin"], "removed", "经核实为重复报送，予以删除。")
    assert case["record"].status == "removed" and objection.answering_org_id == case["admin"].organisation_id
    assert regrades[-1] == (case["enterprise"].id, "objection")


def test_cannot_confirm_keeps_the_record_active_with_the_outcome_visible(case, regrades):
    record = case["record"]
    objection = objections.file_objection(record, case["user"], "已缴清")
    objections.answer_objection(objection, case["tax"], "cannot_confirm", "未查到缴款记录，维持原记录。")
    assert record.status == "active"
    assert objections.marks_for([record.id])[record.id].outcome == "cannot_confirm"
    assert regrades[-1] == (case["enterprise"].id, "objection")
    # the record may be objected to again once answered
    assert objections.file_objection(record, case["user"], "补充了新的凭证", [pdf()]).is_open


@pytest.mark.parametrize("corrections, message", [
    (None, "至少更正一项"), ({"amount": "abc"}, "金额格式不正确"), ({"amount": "-5"}, "金额不能为负数"),
    ({"occurred_on": "2026/01/01"}, "YYYY-MM-DD"), ({"ended_on": "2000-01-01"}, "结束日期不能早于发生日期"),
    ({"title": "   "}, "标题不能为空"),
])
def test_a_bad_correction_is_refused_and_changes_nothing(case, regrades, corrections, message):
    record = case["record"]
    objection = objections.file_objection(record, case["user"], "金额有误")
    with pytest.raises(CreditRequestRefused, match=message):
        objections.answer_objection(objection, case["tax"], "corrected", "更正", corrections)
    assert objection.is_open and record.amount == Decimal("12000.50") and record.status == "objected"


def test_an_answer_needs_a_reply_and_an_outcome_and_is_given_once(case, regrades):
    objection = objections.file_objection(case["record"], case["user"], "已缴清")
    with pytest.raises(CreditRequestRefused, match="请填写书面答复"):
        objections.answer_objection(objection, case["tax"], "removed", " ")
    with pytest.raises(CreditRequestRefused, match="请选择处理结果"):
        objections.answer_objection(objection, case["tax"], "deleted", "删除")
    objections.answer_objection(objection, case["tax"], "removed", "删除")
    with pytest.raises(CreditRequestRefused, match="已经答复过了"):
        objections.answer_objection(objection, case["admin"], "cannot_confirm", "再答一次")


def test_escalation_on_day_15_exactly_notifies_the_regions_bureau_once(case, regrades):
    objection = objections.file_objection(case["record"], case["user"], "已缴清", now=FILED)
    assert objections.escalate_due(date(2026, 11, 15)) == 0  # day 14
    assert objection.escalated_at is None
    assert objections.escalate_due(date(2026, 11, 16)) == 1  # day 15
    assert objection.escalated_at is not None and objection.clock_state(date(2026, 11, 16)) == "escalated"
    assert objections.escalate_due(date(2026, 11, 17)) == 0  # once
    told = {n.user_id for n in db.session.scalars(select(Notification).where(
        Notification.kind == "credit.objection_escalated"))}
    assert told == {case["suzhou"].id}  # not the Shanghai bureau
    assert count(AuditEvent, AuditEvent.action == "credit.objection_escalated") == 1


def test_the_daily_task_escalates_and_a_second_run_adds_nothing(case, app, regrades):
    objection = objections.file_objection(case["record"], case["user"], "已缴清", now=FILED)
    db.session.flush()
    assert escalate_objections.run(today="2026-11-16") == 1
    assert escalate_objections.run(today="2026-11-16") == 0
    assert count(Notification, Notification.kind == "credit.objection_escalated") == 1
    assert db.session.get(CreditObjection, objection.id).escalated_at is not None


def test_an_answered_objection_is_not_escalated_and_an_unanswered_one_is_overdue_after_day_20(case, regrades):
    answered = objections.file_objection(case["record"], case["user"], "已缴清", now=FILED)
    objections.answer_objection(answered, case["tax"], "cannot_confirm", "维持")
    second = add_record(case["enterprise"], case["tax"].organisation, "T-2")
    waiting = objections.file_objection(second, case["user"], "已缴清", now=FILED)
    assert objections.escalate_due(date(2026, 11, 16)) == 1 and answered.escalated_at is None
    assert waiting.clock_state(date(2026, 11, 21)) == "escalated"  # day 20: still due today
    assert waiting.clock_state(date(2026, 11, 22)) == "overdue" and waiting.is_overdue(date(2026, 11, 22))
    assert waiting.days_elapsed(date(2026, 11, 22)) == 21


def test_the_bureau_follows_escalated_and_overdue_objections_of_its_region_only(case, regrades):
    escalated = objections.file_objection(case["record"], case["user"], "已缴清", now=FILED)
    fresh = objections.file_objection(add_record(case["enterprise"], case["tax"].organisation, "T-2"), case["user"],
                                      "刚提出", now=datetime(2026, 11, 10, 2, tzinfo=UTC))
    objections.escalate_due(date(2026, 11, 16))
    suzhou = db.session.scalars(objections.bureau_objections_query(case["suzhou"].organisation,
                                                                   date(2026, 11, 16))).all()
    shanghai = db.session.scalars(objections.bureau_objections_query(case["shanghai"].organisation,
                                                                     date(2026, 11, 16))).all()
    assert suzhou == [escalated] and shanghai == []
    later = db.session.scalars(objections.bureau_objections_query(case["suzhou"].organisation,
                                                                  date(2026, 12, 1))).all()
    assert fresh in later  # overdue (past 2026-11-30) even before the task escalates it


def test_the_escalation_runs_daily_in_the_beat_schedule():
    from celery.schedules import crontab

    from marketplace.celery import BEAT_SCHEDULE, TASK_MODULES

    entry = BEAT_SCHEDULE["credit-escalate-objections"]
    assert entry["task"] == escalate_objections.name and isinstance(entry["schedule"], crontab)
    assert "marketplace.credit.objection_tasks" in TASK_MODULES
