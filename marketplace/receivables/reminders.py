"""Reminders that a debtor has not answered.

A receivable is awaited when it is pending and either has an open confirmation link or backs a
submitted request. A debtor registered on the platform is told in the app and by email (one
notification per debtor, listing its receivables); for a debtor reached only through the link, the
enterprise is told to remind it or to renew the link (we hold no address of the debtor's).

Each receivable is reminded at most every DEBTOR_REMINDER_DAYS days, and not within that time of
its latest link being issued. Rows are taken with FOR UPDATE SKIP LOCKED and stamped
(`reminded_at`) in the transaction that writes the notifications, so a repeated or overlapping run
reminds nobody twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import Select, or_, select

from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge
from marketplace.formatting import ymd_hm, yuan
from marketplace.notifications.messages import later, later_plural, listing
from marketplace.notifications.services import notify
from marketplace.receivables import links
from marketplace.receivables.models import ConfirmationLink, Receivable
from workflows.financing import ACTIVE_STATES, State

SUBMITTED_STATES = [state.value for state in ACTIVE_STATES - {State.DRAFT}]


def reminder_interval() -> timedelta:
    return timedelta(days=current_app.config["DEBTOR_REMINDER_DAYS"])


def due_for_reminder(now: datetime, every: timedelta) -> Select:
    """Awaited receivables not reminded, and not sent a link, within `every`; locked, skipping rows
    another run holds."""
    link = ConfirmationLink
    open_link = select(link.id).where(link.receivable_id == Receivable.id, link.used_at.is_(None),
                                      link.revoked_at.is_(None), link.expires_at > now).exists()
    recent_link = select(link.id).where(link.receivable_id == Receivable.id, link.created_at > now - every).exists()
    pledged = (
        select(RequestPledge.id)
        .join(FinancingRequest, FinancingRequest.id == RequestPledge.request_id)
        .where(RequestPledge.receivable_id == Receivable.id, RequestPledge.active,
               FinancingRequest.state.in_(SUBMITTED_STATES))
        .exists()
    )
    return (
        select(Receivable)
        .where(Receivable.confirmation == "pending", or_(open_link, pledged), ~recent_link,
               or_(Receivable.reminded_at.is_(None), Receivable.reminded_at <= now - every))
        .order_by(Receivable.id)
        .with_for_update(skip_locked=True, of=Receivable)
    )


def send_reminders(now: datetime | None = None) -> int:
    """Remind about every receivable due for it; return how many receivables were reminded about."""
    now = now or utcnow()
    receivables = list(db.session.scalars(due_for_reminder(now, reminder_interval())))
    if not receivables:
        return 0
    debtors = _registered_debtors({r.debtor_uscc for r in receivables})
    for_debtor: dict[int, list[Receivable]] = defaultdict(list)
    for_creditor: dict[int, list[Receivable]] = defaultdict(list)
    for receivable in receivables:
        debtor = debtors.get(receivable.debtor_uscc)
        if debtor is not None and debtor.id != receivable.enterprise_id and _people(debtor):
            for_debtor[debtor.id].append(receivable)
        else:
            for_creditor[receivable.enterprise_id].append(receivable)
        receivable.reminded_at = now
    by_id = {d.id: d for d in debtors.values()}
    for debtor_id, items in for_debtor.items():
        _remind_debtor(by_id[debtor_id], items)
    for items in for_creditor.values():
        _remind_creditor(items, now)
    db.session.flush()
    return len(receivables)


def _registered_debtors(usccs: set[str]) -> dict[str, Enterprise]:
    return {e.uscc: e for e in db.session.scalars(select(Enterprise).where(Enterprise.uscc.in_(usccs)))}


def _people(enterprise: Enterprise) -> list:
    return [user for user in enterprise.organisation.users if user.active]


def _remind_debtor(debtor: Enterprise, items: list[Receivable]) -> None:
    """The debtor's own users: in the app, and by email through notify()."""
    lines = listing((later("%(creditor)s 发票 %(no)s（%(amount)s 元）", creditor=r.enterprise.name, no=r.invoice_no,
                           amount=yuan(r.face_amount, symbol=False)) for r in items), "clauses")
    notify(_people(debtor), "receivable.reminder",
           later_plural("有 %(n)s 笔应收账款等待贵单位确认", "有 %(n)s 笔应收账款等待贵单位确认", len(items)),
           later("以下应收账款以贵单位为债务人，债权人正在等待贵单位的答复：%(items)s。请在“待我确认”中核对后确认，"
             "或提出异议并说明原因。", items=lines),
           url_for("receivables.confirmations"))


def _remind_creditor(items: list[Receivable], now: datetime) -> None:
    """The enterprise, for debtors we reach only through the link: remind them, or renew the link."""
    creditor = items[0].enterprise
    lines = listing((_link_advice(r, now) for r in items), "clauses")
    link = (url_for("receivables.detail", receivable_id=items[0].id) if len(items) == 1
            else url_for("receivables.index", state="pending"))
    notify(_people(creditor), "receivable.reminder",
           later_plural("%(n)s 笔应收账款的债务人尚未确认", "%(n)s 笔应收账款的债务人尚未确认", len(items)),
           later("%(items)s。债务人确认前，这些应收账款在核验中按待确认处理。", items=lines), link)


def _link_advice(receivable: Receivable, now: datetime) -> dict:
    latest = max(receivable.links, key=lambda link: link.id, default=None)
    if latest is not None and links.state_of(latest, now) == "open":
        return later("发票 %(no)s（%(debtor)s）：确认链接有效期至 %(time)s，债务人尚未答复，请提醒债务人使用",
                 no=receivable.invoice_no, debtor=receivable.debtor_name, time=ymd_hm(latest.expires_at))
    return later("发票 %(no)s（%(debtor)s）：没有有效的确认链接，请重新生成并发给债务人",
             no=receivable.invoice_no, debtor=receivable.debtor_name)
