"""Verifications that stalled: a request in `submitted` or `verifying` whose latest submission has
no report VERIFICATION_STALL_MINUTES after its verification was last sent is sent again.

This recovers a message the broker lost, one held unacked by a worker that died whole (Redis
redelivers it only after the visibility timeout, hours later) and a send that failed. The task is
idempotent per (request, submission), so the late original and the resend make one report. After
VERIFICATION_MAX_SENDS sends the platform admins are told, once. The sends are the outbox rows of
the submission's key, so no extra bookkeeping is needed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from marketplace import audit, outbox
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.outbox import OutboxMessage
from marketplace.sla.services import platform_admins
from marketplace.verification.services import (
    report_for,
    schedule_verification,
    submission_number,
    verification_key,
)
from workflows.financing import State

log = logging.getLogger(__name__)

# registered by verification/tasks.py under this name (enqueued by name: tasks.py imports this module)
REPORT_STALLED_TASK = "marketplace.verification.tasks.report_stalled_verification"


def stalled_key(request_id: int, submission_no: int) -> str:
    return f"verify-stalled:{request_id}:{submission_no}"


def _sends(key: str) -> tuple[int, int, datetime | None]:
    """(sends recorded, of which unsent, the latest one's time) for an outbox key."""
    total, unsent, latest = db.session.execute(
        select(func.count(OutboxMessage.id), func.count(OutboxMessage.id).filter(OutboxMessage.sent_at.is_(None)),
               func.max(OutboxMessage.created_at)).where(OutboxMessage.key == key)).one()
    return total, unsent, latest


def resend_stalled(now: datetime | None = None) -> dict[str, int]:
    """Send stalled verifications again, or tell the admins; commits. Returns the counts."""
    now = now or utcnow()
    stall = timedelta(minutes=float(current_app.config["VERIFICATION_STALL_MINUTES"]))
    max_sends = int(current_app.config["VERIFICATION_MAX_SENDS"])
    counts = {"resent": 0, "flagged": 0}
    waiting = db.session.scalars(select(FinancingRequest).where(
        FinancingRequest.state.in_((State.SUBMITTED, State.VERIFYING))).order_by(FinancingRequest.id)).all()
    for request in waiting:
        submission_no = submission_number(request)
        if report_for(request.id, submission_no) is not None:
            continue
        total, unsent, latest = _sends(verification_key(request.id, submission_no))
        if unsent:
            continue  # the outbox sweeper sends it once the broker is back
        if (latest or request.submitted_at or now) > now - stall:
            continue
        if total < max_sends:
            schedule_verification(request, submission_no)
            log.warning("verification of request %s (submission %s) stalled: sent again (%s)",
                        request.id, submission_no, total + 1)
            counts["resent"] += 1
        elif not _sends(stalled_key(request.id, submission_no))[0]:
            outbox.enqueue(REPORT_STALLED_TASK, request.id, submission_no,
                           key=stalled_key(request.id, submission_no))
            counts["flagged"] += 1
    db.session.commit()
    return counts


def report_stalled(request_id: int, submission_no: int) -> bool:
    """Tell the platform admins that a verification did not finish after every resend."""
    request = db.session.get(FinancingRequest, request_id)
    if request is None or report_for(request_id, submission_no) is not None:
        db.session.rollback()
        return False
    audit.record("verification.stalled", request, enterprise_id=request.enterprise_id, request_id=request.id,
                 submission_no=submission_no)
    notify(platform_admins(), "verification.stalled", later("融资申请 #%(id)s 的核验多次未能完成", id=request.id),
           later("该申请第 %(no)s 次提交的核验已重发 %(sends)s 次仍未产生报告，请检查后台任务（Celery）与数据库。",
             no=submission_no, sends=current_app.config["VERIFICATION_MAX_SENDS"]))
    db.session.commit()
    return True
