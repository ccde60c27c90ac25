"""The pages of objections and repairs: the enterprise files from its record and sees the mark;
each organisation loads only its own objects (404 otherwise); the provider and the platform
answer; the bureau sees day-15 escalations of its region with the days elapsed, and decides
repairs; reads by others are in the enterprise's access log; the partials mark a record."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import select

from marketplace.audit import AuditEvent
from marketplace.credit import objections, repairs
from marketplace.credit.models import CreditObjection, RepairApplication
from marketplace.db import utcnow
from marketplace.extensions import db
from tests.credit.test_objections import PDF, add_record, count, make_case, pdf
from tests.factories import make_enterprise_user


@pytest.fixture
def site(app):
    """The objects of test_objections' `case`, made in a request context of their own."""
    with app.test_request_context():
        made = make_case()
        made["other_record"] = add_record(made["other"], made["tax"].organisation, "O-1")
        db.session.commit()  # a savepoint: the test's outer transaction is still rolled back
    return made


def test_the_enterprise_files_an_objection_from_its_record_and_sees_the_mark(app, client, login, site):
    login(site["user"])
    record = site["record"]
    page = client.get(f"/enterprise/credit-file/records/{record.id}/objection")
    assert page.status_code == 200 and "不收取任何费用" in page.get_data(as_text=True)
    response = client.post(f"/enterprise/credit-file/records/{record.id}/objection",
                           data={"reason": "该笔税款已于10月缴清", "confirm": "y",
                                 "evidence": [(io.BytesIO(PDF), "完税证明.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    objection = db.session.scalar(select(CreditObjection).where(CreditObjection.record_id == record.id))
    assert response.headers["Location"].endswith(f"/enterprise/credit-file/objections/{objection.id}")
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "异议处理中" in detail and "完税证明.pdf" in detail and "异议处理不收取任何费用" in detail
    mine = client.get("/enterprise/credit-file/objections").get_data(as_text=True)
    assert f'data-testid="objection-row-{objection.id}"' in mine
    evidence = client.get(f"/enterprise/credit-file/evidence/{objection.evidence[0].id}")
    assert evidence.status_code == 200 and evidence.data == PDF


def test_bad_input_on_the_filing_page_is_refused_in_chinese_and_stores_nothing(client, login, site):
    login(site["user"])
    url = f"/enterprise/credit-file/records/{site['record'].id}/objection"
    empty = client.post(url, data={"reason": "", "confirm": "y"})
    assert empty.status_code == 422 and "请填写异议理由" in empty.get_data(as_text=True)
    not_pdf = client.post(url, data={"reason": "已缴清", "confirm": "y",
                                     "evidence": [(io.BytesIO(b"plain text"), "说明.pdf")]},
                          content_type="multipart/form-data")
    assert not_pdf.status_code == 422 and "只能上传PDF、JPG或PNG文件" in not_pdf.get_data(as_text=True)
    assert count(CreditObjection) == 0 and site["record"].status == "active"
    assert client.post(url, data={"reason": "已缴清", "confirm": "y"}).status_code == 302
    second = client.post(url, data={"reason": "再次提出", "confirm": "y"})
    assert second.status_code == 422 and "已有处理中的异议" in second.get_data(as_text=True)
    assert count(CreditObjection) == 1


def test_another_enterprises_record_and_objects_answer_404_and_nothing_is_stored(app, client, login, site):
    with app.test_request_context():
        objection = objections.file_objection(site["record"], site["user"], "已缴清", [pdf()])
        application = repairs.apply_for_repair(site["record"], site["user"], "承诺", [pdf()])
    login(site["other_user"])
    for url in (f"/enterprise/credit-file/records/{site['record'].id}/objection",
                f"/enterprise/credit-file/records/{site['record'].id}/repair",
                f"/enterprise/credit-file/objections/{objection.id}",
                f"/enterprise/credit-file/repairs/{application.id}",
                f"/enterprise/credit-file/evidence/{objection.evidence[0].id}"):
        assert client.get(url).status_code == 404, url
    refused = client.post(f"/enterprise/credit-file/records/{site['record'].id}/objection",
                          data={"reason": "不是我的", "confirm": "y"})
    assert refused.status_code == 404 and count(CreditObjection) == 1


def test_the_provider_sees_and_answers_objections_on_its_own_records_only(app, client, login, site):
    with app.test_request_context():
        objection = objections.file_objection(site["record"], site["user"], "已缴清", [pdf()])
    login(site["court"])
    assert f"objection-row-{objection.id}" not in client.get("/provider/objections").get_data(as_text=True)
    assert client.get(f"/provider/objections/{objection.id}").status_code == 404
    assert client.post(f"/provider/objections/{objection.id}",
                       data={"outcome": "removed", "reply": "删除"}).status_code == 404
    assert objection.is_open

    login(site["tax"])
    assert f"objection-row-{objection.id}" in client.get("/provider/objections").get_data(as_text=True)
    page = client.get(f"/provider/objections/{objection.id}")
    assert page.status_code == 200 and 'data-testid="answer-form"' in page.get_data(as_text=True)
    assert client.get(f"/provider/objections/{objection.id}/evidence/{objection.evidence[0].id}").status_code == 200
    reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "credit_data.read",
                                                        AuditEvent.enterprise_id == site["enterprise"].id)).all()
    assert {e.object_type for e in reads} == {"credit_objection", "credit_evidence"}
    bad = client.post(f"/provider/objections/{objection.id}",
                      data={"outcome": "corrected", "reply": "更正", "amount": "十二万"})
    assert bad.status_code == 422 and "金额格式不正确" in bad.get_data(as_text=True)
    done = client.post(f"/provider/objections/{objection.id}",
                       data={"outcome": "corrected", "reply": "金额更正为 2000 元", "amount": "2000.00"})
    assert done.status_code == 302
    db.session.refresh(objection)
    assert objection.outcome == "corrected" and site["record"].amount == 2000
    again = client.post(f"/provider/objections/{objection.id}", data={"outcome": "removed", "reply": "删除"})
    assert again.status_code == 409


def test_the_platform_sees_every_objection_and_answers(app, client, login, site):
    with app.test_request_context():
        objection = objections.file_objection(site["other_record"], make_enterprise_user(enterprise=site["other"]),
                                              "重复记录")
    login(site["admin"])
    assert f"objection-row-{objection.id}" in client.get("/admin/objections").get_data(as_text=True)
    response = client.post(f"/admin/objections/{objection.id}", data={"outcome": "removed", "reply": "重复报送，删除"})
    assert response.status_code == 302
    db.session.refresh(site["other_record"])
    assert site["other_record"].status == "removed"


def test_the_bureau_sees_the_escalation_at_day_15_with_the_days_elapsed(app, client, login, site):
    with app.test_request_context():  # filed 15 days ago (Shanghai): today is day 15
        objection = objections.file_objection(site["record"], site["user"], "已缴清",
                                              now=utcnow() - timedelta(days=15))
        fresh = objections.file_objection(add_record(site["enterprise"], site["tax"].organisation, "T-2"),
                                          site["user"], "刚提出")
        assert objections.escalate_due() == 1
    login(site["suzhou"])
    page = client.get("/bureau/objections").get_data(as_text=True)
    assert f'data-testid="objection-row-{objection.id}"' in page and f"objection-row-{fresh.id}" not in page
    assert f'data-testid="objection-days-{objection.id}">15<' in page
    assert client.get(f"/bureau/objections/{objection.id}").status_code == 200
    assert client.get(f"/bureau/objections/{fresh.id}").status_code == 404  # not escalated yet
    login(site["shanghai"])
    assert f"objection-row-{objection.id}" not in client.get("/bureau/objections").get_data(as_text=True)
    assert client.get(f"/bureau/objections/{objection.id}").status_code == 404


def test_repair_applied_on_the_page_and_decided_by_the_regions_bureau(app, client, login, site):
    login(site["user"])
    record = site["record"]
    missing = client.post(f"/enterprise/credit-file/records/{record.id}/repair", data={"commitment": "", "confirm": "y"})
    assert missing.status_code == 422 and "请填写信用修复承诺" in missing.get_data(as_text=True)
    response = client.post(f"/enterprise/credit-file/records/{record.id}/repair",
                           data={"commitment": "已缴清欠税，承诺今后按期申报", "confirm": "y",
                                 "evidence": [(io.BytesIO(PDF), "缴款凭证.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    application = db.session.scalar(select(RepairApplication).where(RepairApplication.record_id == record.id))
    again = client.post(f"/enterprise/credit-file/records/{record.id}/repair", data={"commitment": "再次", "confirm": "y"})
    assert again.status_code == 422 and "已有审核中的信用修复申请" in again.get_data(as_text=True)

    login(site["shanghai"])
    assert client.get(f"/bureau/repairs/{application.id}").status_code == 404
    assert f"repair-row-{application.id}" not in client.get("/bureau/repairs").get_data(as_text=True)
    login(site["suzhou"])
    assert f"repair-row-{application.id}" in client.get("/bureau/repairs").get_data(as_text=True)
    assert client.get(f"/bureau/credit-evidence/{application.evidence[0].id}").status_code == 200
    decided = client.post(f"/bureau/repairs/{application.id}", data={"decision": "approved", "reason": "材料齐全"})
    assert decided.status_code == 302
    db.session.refresh(record)
    assert record.status == "repaired"
    login(site["user"])
    assert "已信用修复" in client.get(f"/enterprise/credit-file/repairs/{application.id}").get_data(as_text=True)


def test_the_partials_mark_a_record_and_list_objections_and_repairs(app, site):
    with app.test_request_context():
        objection = objections.file_objection(site["record"], site["user"], "已缴清")
        marked = render_template_string(
            '{% from "credit/_record_mark.html" import record_mark, record_actions %}'
            '{{ record_mark(record, objection) }}|{{ record_actions(record, objection) }}',
            record=site["record"], objection=objection)
        assert "异议处理中" in marked and f"/enterprise/credit-file/objections/{objection.id}" in marked
        objections.answer_objection(objection, site["tax"], "cannot_confirm", "维持原记录")
        after = render_template_string('{% from "credit/_record_mark.html" import record_mark %}{{ record_mark(r, o) }}',
                                       r=site["record"], o=objections.marks_for([site["record"].id])[site["record"].id])
        assert "异议结果：无法核实" in after and "异议处理中" not in after
        sections = render_template_string(
            '{% from "credit/_objections.html" import objections_section %}'
            '{% from "credit/_repairs.html" import repairs_section %}'
            '{{ objections_section(o, True) }}{{ repairs_section(r, False) }}',
            o=objections.objections_for(site["enterprise"].id), r=[])
        assert f"objection-row-{objection.id}" in sections and 'data-testid="repairs-empty"' in sections


def test_a_second_answer_is_refused_with_a_clear_message(app, client, login, site):
    with app.test_request_context():
        objection = objections.file_objection(site["record"], site["user"], "已缴清")
        objections.answer_objection(objection, site["tax"], "cannot_confirm", "维持原记录")
    login(site["admin"])
    again = client.post(f"/admin/objections/{objection.id}", data={"outcome": "removed", "reply": "删除"})
    assert again.status_code == 409 and "该异议已经答复过了" in again.get_data(as_text=True)
    db.session.refresh(site["record"])
    assert site["record"].status == "active"
