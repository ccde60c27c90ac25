"""Helpers shared by the receivables tests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge
from marketplace.formatting import today_shanghai
from marketplace.receivables.models import Receivable


def receivable_form(debtor_uscc: str, /, **changes) -> dict:
    """A valid receivable form as the browser posts it, with `changes` applied."""
    today = today_shanghai()
    data = {
        "debtor_name": "上海甲贸易有限公司",
        "debtor_uscc": debtor_uscc,
        "invoice_no": "24312000000000123456",
        "contract_no": "HT-2024-001",
        "amount": "128000.50",
        "issue_date": (today - timedelta(days=10)).isoformat(),
        "due_date": (today + timedelta(days=80)).isoformat(),
    }
    data.update(changes)
    return data


def receivables_of(enterprise) -> list[Receivable]:
    return list(db.session.scalars(
        select(Receivable).where(Receivable.enterprise_id == enterprise.id).order_by(Receivable.id)
    ))


def audit_count(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def pledge(receivable, user, *, active: bool = True) -> RequestPledge:
    """Back a draft financing request with the receivable, directly through the models."""
    request = FinancingRequest(enterprise_id=receivable.enterprise_id, amount=receivable.face_amount,
                               term_days=90, purpose="补充流动资金", state="draft", created_by_id=user.id)
    link = RequestPledge(request=request, receivable_id=receivable.id, active=active)
    db.session.add_all([request, link])
    db.session.flush()
    return link


def page_text(response) -> str:
    return response.get_data(as_text=True)
