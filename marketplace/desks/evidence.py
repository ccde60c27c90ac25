"""The evidence behind a request, for the institution reviewing it: the invoices and contracts of
the receivables pledged to it. Read under the enterprise's consent to the institution (the same
scope as the verification report: bank_statements), each read written to the enterprise's
access log with who, when, what and why. A document of a receivable not pledged to the request
(or no longer pledged) is not there for the institution: 404 as if it did not exist.
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace import audit
from marketplace.enterprises.consents import ROUTING_SCOPE, reading_purpose
from marketplace.enterprises.services import has_consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.receivables.models import ReceivableDocument
from marketplace.supermarket.models import RequestTarget


class EvidenceRefused(Exception):
    """The document is not the institution's to read: `status` 404 (not pledged here) or 403
    (no valid consent; the refusal is logged in the enterprise's access log)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def pledged_documents(request: FinancingRequest) -> dict[int, list[ReceivableDocument]]:
    """The documents of each receivable actively pledged to the request, by receivable id."""
    ids = [p.receivable_id for p in request.active_pledges]
    documents: dict[int, list[ReceivableDocument]] = {i: [] for i in ids}
    if ids:
        for document in db.session.scalars(select(ReceivableDocument).where(ReceivableDocument.receivable_id.in_(ids))
                                           .order_by(ReceivableDocument.id)):
            documents[document.receivable_id].append(document)
    return documents


def read_document(target: RequestTarget, document_id: int) -> ReceivableDocument:
    """The document, for the target's institution, logged as a read of the enterprise's data;
    EvidenceRefused otherwise. The caller commits (a refusal too: it is logged)."""
    request = target.request
    document = db.session.get(ReceivableDocument, document_id)
    if document is None or document.receivable_id not in {p.receivable_id for p in request.active_pledges}:
        raise EvidenceRefused(404, "未找到该申请质押的应收账款材料 / No such document of a receivable pledged to "
                                   "this request")
    purpose = reading_purpose(target.institution.kind, request.state)
    if not has_consent(request.enterprise_id, target.institution_id, ROUTING_SCOPE, purpose):
        raise EvidenceRefused(403, "企业未授权本机构查看其材料（授权已撤销、过期或不含银行流水）/ The enterprise's "
                                   "consent does not cover your institution reading its documents")
    receivable = document.receivable
    audit.record_credit_read(request.enterprise_id, "receivable_document", purpose=purpose, request_id=request.id,
                             receivable_id=receivable.id, invoice_no=receivable.invoice_no,
                             document_id=document.id, name=document.original_name)
    return document
