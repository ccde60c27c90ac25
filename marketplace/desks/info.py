""""Request more information": a bank asks the enterprise a question; the enterprise answers with
text and documents. The bank's SLA clock stops while the request waits in info_requested."""

from __future__ import annotations

import hashlib
import uuid

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from marketplace import audit
from marketplace.accounts.people import enterprise_users, institution_staff
from marketplace.after_commit import after_rollback
from marketplace.db import utcnow
from marketplace.desks import claims
from marketplace.desks.models import InfoAttachment, InfoRequest, InternalNote
from marketplace.desks.reasons import DecisionRefused
from marketplace.extensions import db
from marketplace.financing.services import apply_transition
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.receivables.documents import detect_type, original_name, read_limited, storage_dir
from marketplace.supermarket.models import RequestTarget
from workflows.financing import State

QUESTION_MAX = 2000
MAX_ATTACHMENTS = 5


def add_note(target: RequestTarget, user, body: str) -> InternalNote:
    claims.touch(claims.held_by(target, user))
    body = body.strip()
    if not body:
        raise DecisionRefused(_("备注内容不能为空"))
    note = InternalNote(target_id=target.id, author_id=user.id, body=body[:4000])
    db.session.add(note)
    db.session.flush()
    return note


def open_questions(request_id: int) -> list[InfoRequest]:
    return list(db.session.scalars(select(InfoRequest).where(InfoRequest.request_id == request_id,
                                                             InfoRequest.answered_at.is_(None))
                                   .order_by(InfoRequest.id)))


def ask(target: RequestTarget, user, question: str) -> InfoRequest:
    claims.touch(claims.held_by(target, user))
    question = question.strip()
    if not question:
        raise DecisionRefused(_("请填写需要企业补充的内容"))
    if len(question) > QUESTION_MAX:
        raise DecisionRefused(_("问题不能超过%(n)s个字", n=QUESTION_MAX))
    if target.status not in ("reviewing",):
        raise DecisionRefused(_("只有审查中的申请可以要求补充材料"))
    request = target.request
    row = InfoRequest(target_id=target.id, request_id=request.id, asked_by_id=user.id, question=question)
    db.session.add(row)
    target.status = "info_requested"
    db.session.flush()
    audit.record("desk.info_requested", row, enterprise_id=request.enterprise_id, actor=user,
                 request_id=request.id)
    if request.state == State.BANK_REVIEW:
        apply_transition(request, "request_info", user, note=question, info_request_id=row.id)
    notify(enterprise_users(request), "info.requested", later("请补充融资申请 #%(id)s 的材料", id=request.id),
           later("%(bank)s：%(question)s", bank=target.institution.name, question=question),
           url_for("desk_enterprise.questions", request_id=request.id))
    return row


def answer(info: InfoRequest, user, text: str, uploads: list[FileStorage]) -> InfoRequest:
    """The enterprise's answer: text and up to MAX_ATTACHMENTS documents, all or nothing.

    The question's row is locked first, so a second submission of the same answer (a double
    click) waits for the first and is then refused as already answered. The files are written
    last, after every database step, and removed again if the transaction rolls back: no
    refusal or failure leaves a file without its row."""
    db.session.refresh(info, with_for_update=True)
    if info.answered_at is not None:
        raise DecisionRefused(_("该问题已经回复过了"))
    text = text.strip()
    if not text:
        raise DecisionRefused(_("请填写回复内容"))
    uploads = [u for u in uploads if u and u.filename]
    if len(uploads) > MAX_ATTACHMENTS:
        raise DecisionRefused(_("最多上传%(n)s个附件", n=MAX_ATTACHMENTS))
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    files = []
    for upload in uploads:
        data = read_limited(upload, limit)
        files.append((uuid.uuid4().hex, data))
        info.attachments.append(InfoAttachment(original_name=original_name(upload.filename),
                                               stored_name=files[-1][0], content_type=detect_type(data),
                                               size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                               uploaded_by_id=user.id))
    info.answer, info.answered_by_id, info.answered_at = text, user.id, utcnow()
    target = info.target
    if target.status == "info_requested":
        target.status = "reviewing"
    request = target.request
    db.session.flush()
    audit.record("desk.info_answered", info, enterprise_id=request.enterprise_id, actor=user,
                 request_id=request.id, attachments=len(files))
    if request.state == State.INFO_REQUESTED and not open_questions(request.id):
        apply_transition(request, "answer_info", user, info_request_id=info.id)
    notify(institution_staff(target.institution_id), "info.answered", later("企业已补充材料：申请 #%(id)s", id=request.id),
           text[:200], url_for("desk.detail", request_id=request.id))
    _write_files(files)
    return info


def _write_files(files: list[tuple[str, bytes]]) -> None:
    """Write the answer's files; each is removed again if the transaction rolls back."""
    folder = storage_dir()

    def remove() -> None:
        for stored, _data in files:
            (folder / stored).unlink(missing_ok=True)

    after_rollback(remove)
    for stored, data in files:
        (folder / stored).write_bytes(data)
