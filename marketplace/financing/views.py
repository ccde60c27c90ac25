"""The enterprise's financing requests: list, create, edit, submit, withdraw, timeline, and the
verification's progress and reports on the request page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask import request as flask_request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import Role
from marketplace.desks.models import InfoRequest, Offer
from marketplace.enterprises import services as enterprises
from marketplace.enterprises.consents import consenting_institutions
from marketplace.extensions import db
from marketplace.financing import services, targets
from marketplace.financing.forms import RequestForm, RoutingConsentForm, SubmitForm, VersionedForm
from marketplace.financing.models import FinancingRequest, WorkflowEvent
from marketplace.guarantees.models import Guarantee
from marketplace.i18n import is_english, join_list, sentences
from marketplace.pagination import paginate
from marketplace.payments.models import Payment
from marketplace.permissions import current_enterprise, is_enterprise_admin, require_owned
from marketplace.receivables.models import CONFIRMATION_LABELS
from marketplace.supermarket.matching import ranked_matches
from marketplace.supermarket.models import Product, RequestTarget
from marketplace.verification.report_document import CLASS_BADGES
from marketplace.verification.services import reports_of
from workflows.engine import TransitionError
from workflows.financing import EDITABLE_STATES, WITHDRAWABLE_STATES, State, state_label
from workflows.verification.advice import advice_for
from workflows.verification.policy import CLASS_LABELS

bp = Blueprint("financing", __name__, url_prefix="/financing")


def _locale() -> str:
    return "en" if is_english() else "zh"


@bp.app_template_filter("request_state")
def request_state_filter(state: str) -> str:
    return state_label(state, _locale())


def _owned_request(request_id: int) -> FinancingRequest:
    return require_owned(db.session.get(FinancingRequest, request_id))


@bp.get("/")
def index():
    enterprise = current_enterprise()
    page = paginate(
        select(FinancingRequest).where(FinancingRequest.enterprise_id == enterprise.id)
        .options(selectinload(FinancingRequest.pledges))  # each row counts its pledges
        .order_by(FinancingRequest.id.desc())
    )
    return render_template("financing/index.html", page=page)


def _form_page(form: RequestForm, request: FinancingRequest | None, status: int = 200):
    return render_template("financing/form.html", form=form, req=request,
                           confirmation_labels=CONFIRMATION_LABELS), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    """A new draft; `?product=ID` (from the supermarket) makes that product its first target."""
    enterprise = current_enterprise()
    pledgeable = services.pledgeable_receivables(enterprise.id)
    form = RequestForm(pledgeable=pledgeable)
    if not pledgeable:
        holding = services.requests_holding_pledges(enterprise.id)
        if holding:  # every receivable backs an open request: say so, and where they are
            return render_template("financing/all_pledged.html", requests=holding)
        flash(_("没有可质押的应收账款，请先登记应收账款"), "warning")
        return redirect(url_for("receivables.index"))
    if form.validate_on_submit():
        try:
            request = services.create_request(
                enterprise, current_user._get_current_object(), amount=form.parsed_amount,
                term_days=form.term_days.data, purpose=form.purpose.data, receivable_ids=form.receivables.data,
            )
        except services.PledgeConflict as error:
            form.receivables.errors.append(str(error))
            return _form_page(form, None, 409)
        _target_product_from_supermarket(request)
        db.session.commit()
        flash(_("融资申请已保存为草稿，确认无误后请提交"), "success")
        return redirect(url_for("financing.detail", request_id=request.id))
    return _form_page(form, None)


def _target_product_from_supermarket(request: FinancingRequest) -> None:
    """The product becomes the draft's pick even when its institution lacks the enterprise's
    consent: the request page then asks for it (submission needs it)."""
    product_id = flask_request.args.get("product", type=int)
    if not product_id:
        return
    try:
        chosen = targets.choose_targets(request, [product_id], require_consent=False)
    except targets.TargetRefused as error:
        flash(str(error), "warning")
        return
    if not consenting_institutions(request.enterprise_id, [t.institution_id for t in chosen]):
        flash(_("%(name)s 尚未获得贵企业查询银行流水的授权。提交前请在申请页授权，或选择其他机构。",
                name=join_list(t.institution.name for t in chosen)), "warning")


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
def edit(request_id: int):
    request = _owned_request(request_id)
    if request.state not in EDITABLE_STATES:
        flash(_("当前状态下不能修改申请"), "warning")
        return redirect(url_for("financing.detail", request_id=request.id))
    pledgeable = services.pledgeable_receivables(request.enterprise_id, request)
    form = RequestForm(pledgeable=pledgeable, obj=None)
    if not form.is_submitted():
        form.amount.data = f"{request.amount:.2f}"
        form.term_days.data = request.term_days
        form.purpose.data = request.purpose
        form.receivables.data = [p.receivable_id for p in request.active_pledges]
        form.version.data = str(request.version)
    if form.validate_on_submit():
        try:
            services.check_version(request, form.version_number)
            services.update_request(request, current_user._get_current_object(), amount=form.parsed_amount,
                                    term_days=form.term_days.data, purpose=form.purpose.data,
                                    receivable_ids=form.receivables.data)
            db.session.commit()
        except (services.StaleRequest, StaleDataError):
            db.session.rollback()
            flash(_("该申请已被修改，请刷新页面后重试"), "danger")
            return _form_page(form, request, 409)  # what was typed stays on the page; reload for the news
        except services.PledgeConflict as error:
            db.session.rollback()
            flash(str(error), "danger")
            return redirect(url_for("financing.edit", request_id=request_id))
        flash(_("申请已更新"), "success")
        return redirect(url_for("financing.detail", request_id=request.id))
    return _form_page(form, request)


# the states in which the enterprise waits for the verification (the page polls `progress`)
VERIFICATION_PENDING = frozenset({State.SUBMITTED, State.VERIFYING})


@bp.get("/<int:request_id>")
def detail(request_id: int):
    request = _owned_request(request_id)
    user = current_user._get_current_object()
    editable = request.state in EDITABLE_STATES
    submit_blockers = services.blocking_reasons(request, "submit", user) if editable else []
    matches = [m for m in ranked_matches(request) if m.eligible][:8] if editable else []
    reports = reports_of(request.id)
    returned = request.state == State.RETURNED and bool(reports)
    latest = reports[0].payload if returned else {}
    request_targets = _targets(request)
    return render_template(
        "financing/detail.html", req=request, submit_blockers=submit_blockers, locale=_locale(),
        can_edit=editable, can_withdraw=request.state in WITHDRAWABLE_STATES,
        confirmation_labels=CONFIRMATION_LABELS, matches=matches, products=_products_by_id(matches),
        targets=request_targets, chosen={t.product_version.product_id for t in request_targets
                                         if t.status == "chosen"},
        reports=reports, class_labels=CLASS_LABELS, class_badges=CLASS_BADGES, returned=returned, return_reasons=latest.get(f"reasons_{_locale()}", []),
        return_note=_return_note(request) if request.state == State.RETURNED else None,
        advice=advice_for(latest, _locale()) if returned else [],
        progress_steps=_progress_steps(request) if request.state in VERIFICATION_PENDING else [],
        **_consents_needed(request, matches, request_targets, editable),
        **_work_on(request),
    )


def _consents_needed(request: FinancingRequest, matches, request_targets: list[RequestTarget], editable: bool) -> dict:
    """Which institutions on the page (the draft's picks, the recommended products') hold the
    enterprise's consent; for those that do not, a form to grant it (the admin) or a hint."""
    if not editable:
        return {"consenting": set(), "awaiting_consent": [], "consent_forms": {}, "picked_without_consent": set(),
                "admins": []}
    picked = [t.institution_id for t in request_targets if t.status == "chosen" and t.chosen_by == "enterprise"]
    candidates = list(dict.fromkeys(picked + [m.institution_id for m in matches]))
    consenting = consenting_institutions(request.enterprise_id, candidates)
    missing = [i for i in candidates if i not in consenting]
    institutions = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(missing)))} \
        if missing else {}
    awaiting = [institutions[i] for i in missing]
    forms = {}
    if is_enterprise_admin(current_user):
        forms = {o.id: RoutingConsentForm(formdata=None, request_id=request.id, institution_id=o.id) for o in awaiting}
    return {"consenting": consenting, "awaiting_consent": awaiting, "consent_forms": forms,
            "picked_without_consent": set(picked) - consenting, "admins": _admins(request)}


def _admins(request: FinancingRequest) -> list:
    return [u for u in request.enterprise.organisation.users if u.active and u.role == Role.ENTERPRISE_ADMIN]


def _return_note(request: FinancingRequest) -> str | None:
    """Why the request came back, as the timeline says it (e.g. the institutions awaiting consent)."""
    return db.session.scalar(select(WorkflowEvent.note).where(
        WorkflowEvent.request_id == request.id, WorkflowEvent.to_state == State.RETURNED)
        .order_by(WorkflowEvent.id.desc()).limit(1))


@bp.post("/<int:request_id>/consents/<int:institution_id>")
def grant_consent(request_id: int, institution_id: int):
    """The enterprise admin grants, from the request page, the consent an institution needs
    before the request can go to it (bank statements preset; purpose and validity confirmed)."""
    request = _owned_request(request_id)
    institution = db.session.get(Organisation, institution_id)
    if institution is None or institution.kind not in ("bank", "guarantor") or not institution.active:
        abort(404)
    form = RoutingConsentForm(request_id=request.id, institution_id=institution.id)
    if not form.validate_on_submit():
        flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("financing.detail", request_id=request.id, _anchor="consents"))
    enterprises.grant_consent(request.enterprise, current_user._get_current_object(), grantee_org_id=institution.id,
                              scopes=form.scopes.data, purpose=form.purpose.data, valid_from=form.valid_from.data,
                              valid_to=form.valid_to.data)
    db.session.commit()
    flash(_("已授权%(name)s查询贵企业的银行流水（%(start)s 至 %(end)s）。现在可以选择该机构的产品提交申请。",
            name=institution.name, start=form.valid_from.data.isoformat(), end=form.valid_to.data.isoformat()),
          "success")
    return redirect(url_for("financing.detail", request_id=request.id))


def _work_on(request: FinancingRequest) -> dict:
    """What the institutions made of the request, for the page's links: the offers (and how many
    wait for an answer), the questions (and how many are open), the latest guarantee, the fees."""
    offers = dict(db.session.execute(
        select(Offer.status, func.count()).where(Offer.request_id == request.id,
                                                 Offer.status.not_in(("pending_approval", "withdrawn")))
        .group_by(Offer.status)).all())
    questions = db.session.execute(
        select(func.count(), func.count(InfoRequest.answered_at)).where(InfoRequest.request_id == request.id)).one()
    return {
        "offer_count": sum(offers.values()), "offers_waiting": offers.get("made", 0),
        "question_count": questions[0], "questions_open": questions[0] - questions[1],
        "guarantee": db.session.scalar(select(Guarantee).where(Guarantee.request_id == request.id)
                                       .order_by(Guarantee.id.desc()).limit(1)),
        "fees": db.session.scalars(select(Payment).where(Payment.request_id == request.id)
                                   .order_by(Payment.id)).all(),
    }


def _progress_steps(request: FinancingRequest) -> list[tuple[str, str]]:
    """(label, done | current | todo) for 已提交 -> 核验中 -> 已核验 -> 推送/退回."""
    labels = [state_label(State.SUBMITTED, _locale()), state_label(State.VERIFYING, _locale()),
              state_label(State.VERIFIED, _locale()), _("推送/退回")]
    current = 1 if request.state == State.VERIFYING else 0
    return [(label, "done" if i < current else "current" if i == current else "todo")
            for i, label in enumerate(labels)]


@bp.get("/<int:request_id>/progress")
def progress(request_id: int):
    """Where the request stands, for the request page's progress indicator while it is verified."""
    request = _owned_request(request_id)
    return {"state": request.state, "label": state_label(request.state, _locale()),
            "done": request.state not in VERIFICATION_PENDING}


@bp.get("/<int:request_id>/matches")
def matches(request_id: int):
    """Every published product against the request, criterion by criterion."""
    request = _owned_request(request_id)
    ranked = ranked_matches(request)
    return render_template("financing/matches.html", req=request, matches=ranked, locale=_locale(),
                           products=_products_by_id(ranked))


def _products_by_id(matches) -> dict:
    ids = [m.product_id for m in matches]
    if not ids:
        return {}
    # each card names the product's current terms and its institution: loaded with the products
    query = (select(Product).where(Product.id.in_(ids))
             .options(joinedload(Product.current_version), joinedload(Product.institution)))
    return {p.id: p for p in db.session.scalars(query)}


def _targets(request: FinancingRequest) -> list[RequestTarget]:
    return list(db.session.scalars(
        select(RequestTarget).where(RequestTarget.request_id == request.id).order_by(RequestTarget.rank)
    ))


def _stale(request_id: int):
    """409 Conflict: the form was made from an older version (or carried none); the page shows
    the request as it is now, with the message."""
    flash(_("该申请已被修改，请刷新页面后重试"), "danger")
    return detail(request_id), 409


def _apply(request_id: int, name: str, success: str):
    request = _owned_request(request_id)
    form = VersionedForm()
    try:
        services.check_version(request, form.version_number)
        services.apply_transition(request, name, current_user._get_current_object())
        db.session.commit()
    except TransitionError as error:
        db.session.rollback()
        flash(error.text(_locale()), "danger")
    except (services.StaleRequest, StaleDataError):
        db.session.rollback()
        return _stale(request_id)
    else:
        flash(success, "success")
    return redirect(url_for("financing.detail", request_id=request_id))


@bp.post("/<int:request_id>/submit")
def submit(request_id: int):
    """Submit, routing to the products the enterprise picked or to the top matches."""
    request = _owned_request(request_id)
    form = SubmitForm()
    if not form.validate():
        flash("；".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("financing.detail", request_id=request_id))
    try:
        services.check_version(request, form.version_number)
        services.submit_request(request, current_user._get_current_object(), form.products.data)
        db.session.commit()
    except targets.ConsentMissing as error:
        db.session.rollback()  # nothing submitted, nothing routed; the picks stay on the draft
        targets.keep_picks(request, form.products.data)
        db.session.commit()
        flash(str(error), "danger")
        return redirect(url_for("financing.detail", request_id=request_id, _anchor="consents"))
    except (TransitionError, targets.TargetRefused) as error:
        db.session.rollback()
        flash(error.text(_locale()) if isinstance(error, TransitionError) else str(error), "danger")
    except (services.StaleRequest, StaleDataError):
        db.session.rollback()
        return _stale(request_id)
    else:
        flash(_("申请已提交，平台将核验您的收支流水与应收账款"), "success")
    return redirect(url_for("financing.detail", request_id=request_id))


@bp.post("/<int:request_id>/withdraw")
def withdraw(request_id: int):
    return _apply(request_id, "withdraw", _("申请已撤回，质押的应收账款已释放"))
