"""Debtor confirmation requests in one go (issue 19): one request per debtor covering the
enterprise's chosen pending receivables, sent by email or as a printed letter with a QR code;
the debtor answers every line on one page, each answer recorded by services.answer (the same
path as the single-receivable link).

Services flush and write the audit event; the view commits. Tokens: 256 random bits; the row is
found by the token's SHA-256 (an indexed equality, no id in the address), kept encrypted beside
it for the letter's reprint and the reminder. A request expires after DEBTOR_LINK_DAYS, like the
single link.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import selectinload

from marketplace import audit, outbox
from marketplace.accounts.tokens import hash_token
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import ymd_hm, yuan
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.receivables import links, services
from marketplace.receivables.debtor_request_models import DebtorRequest, DebtorRequestLine
from marketplace.receivables.models import Receivable
from marketplace.workcalendar.services import working_calendar

SEND_EMAIL_TASK = "marketplace.receivables.tasks.send_debtor_request_email"


class RequestLinkProblem(links.LinkProblem):
    """Why a request's link cannot be used; the single link's texts, worded for several receivables."""

    TEXTS = {
        **links.LinkProblem.TEXTS,
        "used": (_l("已答复"), _l("贵单位已通过此链接对这些应收账款作出答复，每个链接只能提交一次。")),
        "revoked": (_l("链接已作废"), _l("债权人已撤回此确认请求，此链接已作废。如有疑问请联系债权人。")),
    }


# --- choosing what to ask ------------------------------------------------------------------------

@dataclass
class DebtorGroup:
    """One debtor's receivables to ask about in one request."""

    debtor_uscc: str
    debtor_name: str
    receivables: list[Receivable] = field(default_factory=list)


@dataclass
class Selection:
    """The chosen receivables grouped by debtor, and those left out with the reason."""

    groups: list[DebtorGroup]
    left_out: list[tuple[Receivable, str]]

    @property
    def receivable_ids(self) -> list[int]:
        return [r.id for group in self.groups for r in group.receivables]


def _open(now: datetime):
    return (DebtorRequest.revoked_at.is_(None), DebtorRequest.answered_at.is_(None), DebtorRequest.expires_at > now)


def _in_open_request(now: datetime):
    return exists().where(DebtorRequestLine.receivable_id == Receivable.id,
                          DebtorRequestLine.request_id == DebtorRequest.id, *_open(now))


def select_receivables(enterprise: Enterprise, ids: list[int] | None, *, lock: bool = False) -> Selection:
    """The enterprise's receivables among `ids` (None: every pending one) grouped by debtor. A
    receivable already answered, or awaiting an answer in an open request, is left out, with why."""
    now = utcnow()
    query = (select(Receivable, _in_open_request(now).label("asked"))
             .where(Receivable.enterprise_id == enterprise.id)
             .order_by(Receivable.debtor_name, Receivable.debtor_uscc, Receivable.due_date, Receivable.id))
    query = query.where(Receivable.confirmation == "pending") if ids is None else query.where(Receivable.id.in_(ids))
    if lock:
        query = query.with_for_update(of=Receivable)
    groups: dict[str, DebtorGroup] = {}
    left_out = []
    for receivable, asked in db.session.execute(query).all():
        if receivable.confirmation != "pending":
            left_out.append((receivable, _("债务人已答复（已确认或有异议），无需再次请求")))
        elif asked:
            left_out.append((receivable, _("已在有效的确认请求中，等待债务人答复")))
        else:
            group = groups.setdefault(receivable.debtor_uscc,
                                      DebtorGroup(receivable.debtor_uscc, receivable.debtor_name))
            group.receivables.append(receivable)
    return Selection(list(groups.values()), left_out)


# --- sending -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """How to reach one debtor: by email (to the address given) or by a printed letter."""

    channel: str  # email | letter
    email: str | None = None


class RequestRefused(services.ReceivableRefused):
    """Nothing to send, or the selection changed meanwhile; the message says why."""


def create_requests(enterprise: Enterprise, user, ids: list[int], deliveries: dict[str, Delivery]) -> list[DebtorRequest]:
    """One request per debtor covering its chosen receivables; emails go out after the commit
    (through the outbox). Raises RequestRefused when a debtor has no delivery or nothing is left."""
    selection = select_receivables(enterprise, ids, lock=True)
    if not selection.groups:
        raise RequestRefused(_("所选应收账款中没有需要债务人确认的（待确认且不在有效的确认请求中）"))
    missing = [g.debtor_name for g in selection.groups if g.debtor_uscc not in deliveries]
    if missing:
        raise RequestRefused(_("请为每个债务人选择发送方式：%(names)s", names="、".join(missing)))
    now = utcnow()
    created = []
    for group in selection.groups:
        delivery = deliveries[group.debtor_uscc]
        token = secrets.token_urlsafe(32)
        request = DebtorRequest(
            enterprise_id=enterprise.id, debtor_uscc=group.debtor_uscc, debtor_name=group.debtor_name,
            channel=delivery.channel, email=delivery.email if delivery.channel == "email" else None,
            token_hash=hash_token(token), token=token, created_by_id=user.id, created_at=now,
            expires_at=now + links.max_age(),
            lines=[DebtorRequestLine(receivable_id=r.id, invoice_no=r.invoice_no, face_amount=r.face_amount)
                   for r in group.receivables],
        )
        db.session.add(request)
        db.session.flush()
        audit.record("debtor_request.created", request, enterprise_id=enterprise.id, actor=user,
                     debtor_uscc=request.debtor_uscc, channel=request.channel, lines=len(request.lines),
                     receivable_ids=[r.id for r in group.receivables], expires_at=request.expires_at)
        if request.channel == "email":
            outbox.enqueue(SEND_EMAIL_TASK, request.id, "request", key=f"debtor-request:{request.id}")
        created.append(request)
    return created


def revoke_request(request: DebtorRequest, user) -> None:
    if state_of(request) != "open":
        raise RequestRefused(_("该确认请求已答复、已过期或已撤回，无需撤回"))
    request.revoked_at = utcnow()
    db.session.flush()
    audit.record("debtor_request.revoked", request, enterprise_id=request.enterprise_id, actor=user)


def link_url(request: DebtorRequest) -> str:
    """The absolute address sent to the debtor; PUBLIC_BASE_URL wins over the request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("debtor.request_page", token=request.token)
    return url_for("debtor.request_page", token=request.token, _external=True)


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code (made here, no network)."""
    import segno  # by the page that shows a QR code, not by every process (start-up, issue 15)

    return segno.make(url, error="m").svg_inline(scale=4, border=2)


# --- the enterprise's table ----------------------------------------------------------------------

def requests_query(enterprise_id: int) -> Select:
    """The enterprise's requests, newest first, with their lines and receivables (for progress())."""
    return (select(DebtorRequest).where(DebtorRequest.enterprise_id == enterprise_id)
            .options(selectinload(DebtorRequest.lines).joinedload(DebtorRequestLine.receivable))
            .order_by(DebtorRequest.created_at.desc(), DebtorRequest.id.desc()))


def state_of(request: DebtorRequest, now: datetime | None = None) -> str:
    """answered, revoked, expired or open."""
    if request.answered_at is not None:
        return "answered"
    if request.revoked_at is not None:
        return "revoked"
    if request.expires_at <= (now or utcnow()):
        return "expired"
    return "open"


def progress(request: DebtorRequest) -> str:
    """How far the debtor has answered the request's receivables (by this request or another
    way): answered, partly or none."""
    answered = sum(line.receivable.confirmation != "pending" for line in request.lines)
    if answered == len(request.lines):
        return "answered"
    return "partly" if answered else "none"


# --- the debtor's page ---------------------------------------------------------------------------

def resolve(token: str, *, for_update: bool = False) -> DebtorRequest:
    """The open request the token names, or raise the RequestLinkProblem to show."""
    query = select(DebtorRequest).where(DebtorRequest.token_hash == hash_token(token))
    if for_update:
        query = query.with_for_update()
    request = db.session.scalar(query)
    if request is None:
        raise RequestLinkProblem("invalid")
    state = state_of(request)
    if state != "open":
        raise RequestLinkProblem("used" if state == "answered" else state)
    return request


def askable(line: DebtorRequestLine) -> bool:
    """The line still asks the debtor: its receivable is pending and shows the facts the request
    was made with (an edit of the debtor, invoice or amount since then makes the line stale)."""
    receivable = line.receivable
    return (receivable.confirmation == "pending" and receivable.debtor_uscc == line.request.debtor_uscc
            and receivable.invoice_no == line.invoice_no and receivable.face_amount == line.face_amount)


def askable_lines(request: DebtorRequest) -> list[DebtorRequestLine]:
    return [line for line in request.lines if askable(line)]


@dataclass(frozen=True)
class LineAnswer:
    confirm: bool
    reason: str | None = None


def submit_answers(request: DebtorRequest, answers: dict[int, LineAnswer], name: str, ip: str | None) -> None:
    """Record the debtor's one submission: every askable line must be answered (`answers` by line
    id); each answer goes through services.answer. Lines no longer askable are marked skipped."""
    _lock_receivables(request)
    lines = askable_lines(request)
    if {line.id for line in lines} != set(answers):
        raise RequestRefused(_("请对每一笔应收账款选择确认或提出异议"))
    for line in request.lines:
        reply = answers.get(line.id)
        if reply is None:
            line.result = "skipped"
            continue
        services.answer(line.receivable, services.Answer(confirm=reply.confirm, name=name, via="link", ip=ip,
                                                         reason=reply.reason), notify_creditor=False)
        line.result = line.receivable.confirmation
    request.answered_at = utcnow()
    request.answered_by_name = name.strip()
    request.answered_ip = ip
    db.session.flush()
    audit.record("debtor_request.answered", request, enterprise_id=request.enterprise_id,
                 answered_by_name=request.answered_by_name,
                 results={line.receivable_id: line.result for line in request.lines})
    _notify_creditor(request)


def _lock_receivables(request: DebtorRequest) -> None:
    """Lock and reload the request's receivables: an answer by the single link or the debtor's
    account meanwhile is seen (the line is skipped), never overwritten."""
    ids = [line.receivable_id for line in request.lines]
    db.session.scalars(select(Receivable).where(Receivable.id.in_(ids)).order_by(Receivable.id)
                       .with_for_update().execution_options(populate_existing=True)).all()


def _notify_creditor(request: DebtorRequest) -> None:
    counts = defaultdict(int)
    for line in request.lines:
        counts[line.result] += 1
    notify(request.enterprise.organisation.users, "receivable.answered",
           later("%(debtor)s 已答复确认请求", debtor=request.debtor_name),
           later("%(debtor)s 对 %(n)s 笔应收账款作出答复：确认 %(confirmed)s 笔，提出异议 %(disputed)s 笔。",
                 debtor=request.debtor_name, n=counts["confirmed"] + counts["disputed"],
                 confirmed=counts["confirmed"], disputed=counts["disputed"]),
           url_for("debtor_requests.detail", request_id=request.id))


# --- reminders before expiry ---------------------------------------------------------------------

def reminder_lead() -> float:
    return float(current_app.config["DEBTOR_REQUEST_REMIND_WORKING_DAYS"])


def due_for_reminder(now: datetime, threshold: datetime) -> Select:
    """Open, unreminded requests expiring by `threshold`; locked, skipping rows another run holds."""
    return (select(DebtorRequest)
            .where(*_open(now), DebtorRequest.reminded_at.is_(None), DebtorRequest.expires_at <= threshold)
            .order_by(DebtorRequest.id)
            .with_for_update(skip_locked=True))


def send_reminders(now: datetime | None = None) -> int:
    """Once per request, when at most DEBTOR_REQUEST_REMIND_WORKING_DAYS working days remain: the
    debtor is emailed the link again; for a letter the enterprise is told (we hold no address).
    Stamped in this transaction, so a repeated or overlapping run reminds nobody twice."""
    now = now or utcnow()
    threshold = working_calendar().add_working_days(now, reminder_lead())
    requests = list(db.session.scalars(due_for_reminder(now, threshold)))
    for request in requests:
        request.reminded_at = now
        if request.channel == "email":
            outbox.enqueue(SEND_EMAIL_TASK, request.id, "reminder", key=f"debtor-request-reminder:{request.id}")
        else:
            _remind_creditor(request)
    db.session.flush()
    return len(requests)


def _remind_creditor(request: DebtorRequest) -> None:
    notify(request.enterprise.organisation.users, "receivable.reminder",
           later("%(debtor)s 尚未答复确认函", debtor=request.debtor_name),
           later("寄给 %(debtor)s 的确认函（%(n)s 笔应收账款）将于 %(time)s（北京时间）过期，债务人尚未答复。"
                 "请提醒债务人扫码答复，或过期后重新发送。", debtor=request.debtor_name, n=len(request.lines),
                 time=ymd_hm(request.expires_at)),
           url_for("debtor_requests.detail", request_id=request.id))


# --- the email -----------------------------------------------------------------------------------

def email_text(request: DebtorRequest, kind: str) -> tuple[str, str]:
    """(subject, body) of the request email or its reminder, in Chinese: the debtor has no account
    and so no language setting."""
    creditor = request.enterprise.name
    lines = "\n".join("  " + _("发票 %(no)s，%(amount)s 元", no=line.invoice_no, amount=yuan(line.face_amount, symbol=False))
                      for line in request.lines)
    if kind == "reminder":
        subject = _("提醒：%(creditor)s 的应收账款确认请求即将过期", creditor=creditor)
    else:
        subject = _("%(creditor)s 请贵单位确认应收账款", creditor=creditor)
    body = _("%(debtor)s：\n\n%(creditor)s 在应收账款融资服务平台登记了以下以贵单位为债务人的应收账款，"
             "请打开下方链接逐笔确认或提出异议（无需注册，提交一次即可）：\n\n%(lines)s\n\n%(url)s\n\n"
             "链接有效期至 %(time)s（北京时间）。如非贵单位的债务，请在页面上提出异议并说明原因。",
             debtor=request.debtor_name, creditor=creditor, lines=lines, url=link_url(request),
             time=ymd_hm(request.expires_at))
    return subject, body


def claim_email(request_id: int, kind: str) -> DebtorRequest | None:
    """Stamp the request's email (or reminder email) as sent, once; None when it was already."""
    column = DebtorRequest.emailed_at if kind == "request" else DebtorRequest.reminder_emailed_at
    request = db.session.scalar(select(DebtorRequest).where(DebtorRequest.id == request_id, column.is_(None))
                                .with_for_update(skip_locked=True))
    if request is None or request.channel != "email":
        return None
    setattr(request, column.key, utcnow())
    return request
