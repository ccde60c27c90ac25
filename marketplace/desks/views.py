"""The bank's and guarantor's desk: the queue of requests routed to the institution, and each
request's review page where staff claim, note, ask, offer, approve and decline."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from marketplace import audit
from marketplace.accounts.roles import Role
from marketplace.desks import claims, decisions, evidence, info, panels, queue, rows
from marketplace.desks.forms import DeclineForm, NoteForm, OfferForm, QuestionForm
from marketplace.desks.models import InfoAttachment, InfoRequest, InternalNote, Offer
from marketplace.enterprises.consents import reading_purpose
from marketplace.enterprises.models import SCOPE_LABELS, Consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge
from marketplace.formatting import today_shanghai
from marketplace.guarantees import services as guarantees
from marketplace.guarantees.forms import GuaranteeOfferForm
from marketplace.i18n import is_english, sentences
from marketplace.receivables.documents import document_response, stored_file_response
from marketplace.receivables.models import CONFIRMATION_LABELS, Receivable
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name
from marketplace.statements.models import StatementFile
from marketplace.supermarket.models import RequestTarget
from marketplace.verification.routed import routed_target
from marketplace.verification.services import reports_of

bp = Blueprint("desk", __name__, url_prefix="/institution/requests")

STATEMENTS_SCOPE = "bank_statements"


def _locale() -> str:
    return "en" if is_english() else "zh"


def _user():
    return current_user._get_current_object()


@bp.get("/")
def index():
    filters = queue.Filters.from_args(request.args)
    result = queue.page(_user(), filters)
    return render_template("desks/index.html", page=result, filters=filters, rows_html=rows.rows_html(result.rows),
                           tabs_html=panels.tabs_html(filters, result.counts),
                           filters_html=panels.filters_html(filters, request.args))


@bp.post("/claim-next")
def claim_next():
    assignment = claims.claim_next(_user())
    db.session.commit()
    if assignment is None:
        flash(_("队列中暂无可认领的申请"), "info")
        return redirect(url_for("desk.index"))
    flash(_("已认领申请 #%(id)s", id=assignment.request_id), "success")
    return redirect(url_for("desk.detail", request_id=assignment.request_id))


def _target(request_id: int) -> RequestTarget:
    target = routed_target(request_id, current_user.organisation_id)
    if target is None:
        abort(404)
    return target


@bp.get("/<int:request_id>")
def detail(request_id: int):
    target = _target(request_id)
    req = _request_with_pledges(target.request_id)
    user = _user()
    purpose = reading_purpose(user.organisation.kind, req.state)
    consent_scopes = _consented_scopes(req.enterprise_id, user.organisation_id, purpose)
    statements = []
    if STATEMENTS_SCOPE in consent_scopes:
        statements = list(db.session.scalars(select(StatementFile).where(StatementFile.enterprise_id == req.enterprise_id)
                                             .order_by(StatementFile.first_date)))
    assignment = claims.open_assignment(target.id)
    reasons = decisions.decline_reasons()
    html = render_template(
        "desks/detail.html", req=req, target=target, reports=reports_of(req.id), locale=_locale(),
        assignment=assignment, mine=assignment is not None and assignment.user_id == user.id,
        consent_scopes=consent_scopes, statements=statements,
        # the documents of each pledged receivable, loaded with the request (ordered by id)
        documents=({p.receivable_id: list(p.receivable.documents) for p in req.active_pledges}
                   if STATEMENTS_SCOPE in consent_scopes else None),
        notes=db.session.scalars(select(InternalNote).where(InternalNote.target_id == target.id)
                                 .options(joinedload(InternalNote.author))
                                 .order_by(InternalNote.id.desc())).all(),
        questions=db.session.scalars(select(InfoRequest).where(InfoRequest.target_id == target.id)
                                     .options(joinedload(InfoRequest.asked_by), selectinload(InfoRequest.attachments))
                                     .order_by(InfoRequest.id.desc())).all(),
        offers=db.session.scalars(select(Offer).where(Offer.target_id == target.id)
                                  .options(joinedload(Offer.made_by), joinedload(Offer.approved_by))
                                  .order_by(Offer.id.desc())).all(),
        offer_form=OfferForm(formdata=None, term_days=req.term_days, amount=f"{req.amount:.2f}"),
        decline_form=DeclineForm(formdata=None, reasons=reasons, locale=_locale()), reasons=reasons,
        may_decline=decisions.decline_refusal(target) is None,
        question_form=QuestionForm(formdata=None), note_form=NoteForm(formdata=None),
        four_eyes_amount=decisions.four_eyes_amount(), is_approver=user.role == Role.BANK_APPROVER,
        today=today_shanghai(), industry_name=industry_name, region_name=region_name, scope_labels=SCOPE_LABELS,
        confirmation_labels=CONFIRMATION_LABELS,
        guarantee=guarantees.guarantee_of_target(target), guarantee_form=GuaranteeOfferForm(formdata=None),
    )
    # what the page shows is what was read: logged (and committed) before the page is sent; after
    # rendering, as the commit expires the request and its pledges, which the template reads
    audit.record_credit_read(req.enterprise_id, "financing_request", purpose=purpose,
                             request_id=req.id, sections=sorted(consent_scopes))
    db.session.commit()
    return html


def _request_with_pledges(request_id: int) -> FinancingRequest:
    """The request with what its page lists loaded alongside (the enterprise; the pledges, their
    receivables and the receivables' documents): a fixed number of statements, however many
    receivables are pledged."""
    return db.session.scalars(
        select(FinancingRequest).where(FinancingRequest.id == request_id)
        .options(joinedload(FinancingRequest.enterprise),
                 selectinload(FinancingRequest.pledges).joinedload(RequestPledge.receivable)
                 .selectinload(Receivable.documents))
    ).one()


def _consented_scopes(enterprise_id: int, org_id: int, purpose: str) -> set[str]:
    """The scopes the institution may read today for `purpose`."""
    today = today_shanghai()
    consents = db.session.scalars(select(Consent).where(Consent.enterprise_id == enterprise_id,
                                                        Consent.grantee_org_id == org_id))
    return {scope for c in consents for scope in (c.scopes or []) if c.covers(scope, today, purpose)}


def _act(request_id: int, action, success: str):
    """Run one desk action on the user's institution's target; flash its refusal, if any."""
    target = _target(request_id)
    try:
        action(target)
        db.session.commit()
    except (claims.ClaimRefused, decisions.DecisionRefused) as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        flash(success, "success")
    return redirect(url_for("desk.detail", request_id=request_id))


@bp.post("/<int:request_id>/claim")
def claim(request_id: int):
    return _act(request_id, lambda target: claims.claim(target, _user()), _("已认领，其他同事将看到由您处理"))


@bp.post("/<int:request_id>/release")
def release(request_id: int):
    return _act(request_id, lambda target: claims.release(target, _user()), _("已释放，申请回到队列"))


@bp.post("/<int:request_id>/notes")
def add_note(request_id: int):
    form = NoteForm()
    if not form.validate():
        flash(_("备注内容不能为空"), "danger")
        return redirect(url_for("desk.detail", request_id=request_id))
    return _act(request_id, lambda target: info.add_note(target, _user(), form.body.data), _("备注已保存"))


@bp.post("/<int:request_id>/questions")
def ask(request_id: int):
    form = QuestionForm()
    if not form.validate():
        flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("desk.detail", request_id=request_id))
    return _act(request_id, lambda target: info.ask(target, _user(), form.question.data),
                _("已通知企业补充材料，等待期间时限暂停计算"))


@bp.post("/<int:request_id>/offers")
def make_offer(request_id: int):
    form = OfferForm()
    if not form.validate():
        flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("desk.detail", request_id=request_id))
    terms = decisions.OfferTerms(form.parsed_amount, form.parsed_rate, form.term_days.data, form.expires_on.data,
                                 form.conditions.data or "", form.parsed_fee_rate, form.roll_to_working_day.data)

    def action(target):
        offer = decisions.make_offer(target, _user(), terms)
        if offer.status == "pending_approval":
            flash(_("金额超过四眼审批金额，报价已提交另一位审批人审批"), "info")

    return _act(request_id, action, _("报价已保存"))


@bp.post("/<int:request_id>/guarantee")
def offer_guarantee(request_id: int):
    """A guarantor's staff, holding the claim, offer a guarantee (coverage and fee rate)."""
    form = GuaranteeOfferForm()
    if not form.validate():
        flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("desk.detail", request_id=request_id))
    return _act(request_id, lambda target: guarantees.offer_guarantee(target, _user(), form.parsed_coverage,
                                                                      form.parsed_fee_rate),
                _("担保方案已发送给企业"))


@bp.post("/<int:request_id>/offers/<int:offer_id>/approve")
def approve_offer(request_id: int, offer_id: int):
    target = _target(request_id)
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.target_id != target.id:
        abort(404)
    return _act(request_id, lambda _target: decisions.approve_offer(offer, _user()), _("报价已审批并发送给企业"))


@bp.post("/<int:request_id>/decline")
def decline(request_id: int):
    form = DeclineForm(reasons=decisions.decline_reasons(), locale=_locale())
    if not form.validate():
        flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("desk.detail", request_id=request_id))
    return _act(request_id, lambda target: decisions.decline(target, _user(), form.reason_code.data,
                                                             form.note.data or ""), _("已拒绝，企业将收到通知"))


@bp.get("/<int:request_id>/documents/<int:document_id>")
def document(request_id: int, document_id: int):
    """An invoice or contract of a receivable pledged to the request, within the enterprise's
    consent, each view logged in its access log; `?download=1` saves it instead of opening it."""
    target = _target(request_id)
    try:
        document = evidence.read_document(target, document_id)
    except evidence.EvidenceRefused as refused:
        db.session.commit()  # keep the logged refusal
        abort(refused.status)
    db.session.commit()
    return document_response(document, download=request.args.get("download") == "1")


@bp.get("/<int:request_id>/attachments/<int:attachment_id>")
def attachment(request_id: int, attachment_id: int):
    target = _target(request_id)
    row = db.session.get(InfoAttachment, attachment_id)
    if row is None or row.info_request.target_id != target.id:
        abort(404)
    audit.record_credit_read(target.request.enterprise_id, "info_attachment",
                             purpose=reading_purpose(target.institution.kind, target.request.state),
                             request_id=request_id, attachment_id=row.id)
    db.session.commit()
    return stored_file_response(row.stored_name, row.content_type, row.original_name, f"attachment-{row.id}")
