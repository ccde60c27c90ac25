"""The lists' pages: the bureau coordinator's review of the list proposals and the white-list
pushes (scoped to the bureau's region, else 404), the published lists and the confirmed push
for institutions' staff, and the enterprise admin's consent to be recommended.

The yellow flag shown beside an enterprise on staff pages and PDFs is the template global
`yellow_listed(enterprise_id)` (templates/lists/_flag.html: macro yellow_flag), backed by one
query per request (services.yellow_ids_for_request).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from marketplace import audit
from marketplace.bureau.region import current_bureau
from marketplace.bureau.spreadsheets import XLSX_TYPE
from marketplace.downloads import file_headers
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.i18n import is_english, sentences
from marketplace.lists import services
from marketplace.lists.exports import whitelist_xlsx
from marketplace.lists.forms import (
    ComputeForm,
    EntryDecisionForm,
    ListFilterForm,
    MonthFilterForm,
    MonthForm,
    NoteForm,
    RecommendConsentForm,
)
from marketplace.lists.models import ListMembership, WhitelistPushEntry
from marketplace.pagination import paginate
from marketplace.permissions import current_enterprise
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name, region_prefix, region_prefix_name
from workflows.credit_lists import LIST_DESCRIPTIONS, LIST_LABELS

bp = Blueprint("lists", __name__)

LIST_BADGES = {"red": "ok", "white": "info", "yellow": "warn"}


@bp.app_template_global("yellow_listed")
def yellow_listed_global(enterprise_id) -> bool:
    """Whether the enterprise is on the current published yellow list (one query per request)."""
    return services.is_yellow_listed(enterprise_id)


@bp.app_template_global("yellow_listed_request")
def yellow_listed_request_global(request_id) -> bool:
    """Whether the financing request's enterprise is on the current yellow list (one query per request)."""
    return request_id is not None and request_id in services.yellow_request_ids_for_request()


def _user():
    return current_user._get_current_object()


def _errors(form) -> str:
    return sentences(e for errors in form.errors.values() for e in errors)


def _region_label(code: str | None) -> str:
    """A region code's name: 320500 -> 江苏省苏州市."""
    return region_prefix_name(region_prefix(code))


def _common() -> dict:
    return {"list_labels": LIST_LABELS, "list_descriptions": LIST_DESCRIPTIONS, "list_badges": LIST_BADGES,
            "state_labels": services.PROPOSAL_STATE_LABELS, "trigger_labels": services.TRIGGER_LABELS,
            "decision_labels": services.DECISION_LABELS, "push_state_labels": services.PUSH_STATE_LABELS,
            "region_label": _region_label, "region_name": region_name, "industry_name": industry_name,
            "english": is_english()}


# ---- the coordinator: list proposals ---------------------------------------------------------------

def _proposal(proposal_id: int):
    proposal = services.proposal_for(proposal_id, _user())
    if proposal is None:
        abort(404)
    return proposal


def _bureau_index(form: ComputeForm, status: int = 200):
    page = paginate(services.proposals_of(current_bureau()))
    return render_template("lists/bureau_index.html", page=page, form=form, bureau=current_bureau(),
                           **_common()), status


@bp.get("/bureau/lists")
def bureau_index():
    return _bureau_index(ComputeForm(formdata=None, year=today_shanghai().year))


@bp.post("/bureau/lists")
def compute():
    form = ComputeForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _bureau_index(form, 422)
    bureau = current_bureau()
    try:
        proposal = services.compute_proposal(bureau.region_code or "", form.year.data, _user(), today_shanghai())
        db.session.commit()
    except services.ListRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return _bureau_index(form, 422)
    flash(_("已计算%(year)s年度名单，请逐条审核后确认发布", year=proposal.year), "success")
    return redirect(url_for("lists.proposal", proposal_id=proposal.id))


def _proposal_page(proposal, decision_form=None, note_form=None, status: int = 200):
    page = paginate(services.memberships_of(proposal))
    return render_template("lists/proposal.html", proposal=proposal, page=page, counts=services.list_counts(proposal),
                           decision_form=decision_form or EntryDecisionForm(formdata=None),
                           note_form=note_form or NoteForm(formdata=None), **_common()), status


@bp.get("/bureau/lists/<int:proposal_id>")
def proposal(proposal_id: int):
    return _proposal_page(_proposal(proposal_id))


@bp.post("/bureau/lists/<int:proposal_id>/entries/<int:membership_id>")
def decide_entry(proposal_id: int, membership_id: int):
    proposal = _proposal(proposal_id)
    membership = db.session.get(ListMembership, membership_id)
    if membership is None or membership.proposal_id != proposal.id:
        abort(404)
    form = EntryDecisionForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _proposal_page(proposal, decision_form=form, status=422)
    try:
        services.decide_membership(membership, _user(), form.decision.data == "included", form.reason.data)
        db.session.commit()
    except services.ListRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return _proposal_page(proposal, decision_form=form, status=422)
    flash(_("已更新%(name)s的审核决定", name=membership.enterprise.name), "success")
    return redirect(url_for("lists.proposal", proposal_id=proposal.id))


def _close_proposal(proposal_id: int, verb, done: str):
    """Confirm or reject a proposal with the coordinator's note: `verb(proposal, user, note)`."""
    proposal = _proposal(proposal_id)
    form = NoteForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _proposal_page(proposal, note_form=form, status=422)
    try:
        verb(proposal, _user(), form.note.data)
        db.session.commit()
    except services.ListRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return _proposal_page(proposal, note_form=form, status=422)
    flash(done, "success")
    return redirect(url_for("lists.proposal", proposal_id=proposal.id))


@bp.post("/bureau/lists/<int:proposal_id>/confirm")
def confirm(proposal_id: int):
    return _close_proposal(proposal_id, services.confirm_proposal, _("名单已确认并发布"))


@bp.post("/bureau/lists/<int:proposal_id>/reject")
def reject(proposal_id: int):
    return _close_proposal(proposal_id, services.reject_proposal, _("名单提议已驳回"))


# ---- the coordinator: white-list pushes ------------------------------------------------------------

def _push(push_id: int):
    push = services.push_for(push_id, _user())
    if push is None:
        abort(404)
    return push


def _pushes_index(form: MonthForm, status: int = 200):
    page = paginate(services.pushes_of(current_bureau()))
    return render_template("lists/pushes_index.html", page=page, form=form, bureau=current_bureau(),
                           **_common()), status


@bp.get("/bureau/whitelist-pushes")
def pushes():
    return _pushes_index(MonthForm(formdata=None, month=today_shanghai().strftime("%Y-%m")))


@bp.post("/bureau/whitelist-pushes")
def propose_push():
    form = MonthForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _pushes_index(form, 422)
    month = date.fromisoformat(form.month.data + "-01")
    try:
        push = services.propose_whitelist_push(current_bureau().region_code or "", month, today_shanghai(), _user())
        db.session.commit()
    except services.ListRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return _pushes_index(form, 422)
    return redirect(url_for("lists.push", push_id=push.id))


def _push_page(push, form=None, status: int = 200):
    entries = services.push_entries(push)
    return render_template("lists/push.html", push=push, entries=entries,
                           decision_form=form or EntryDecisionForm(formdata=None), **_common()), status


@bp.get("/bureau/whitelist-pushes/<int:push_id>")
def push(push_id: int):
    return _push_page(_push(push_id))


@bp.post("/bureau/whitelist-pushes/<int:push_id>/entries/<int:entry_id>")
def decide_push_entry(push_id: int, entry_id: int):
    push = _push(push_id)
    entry = db.session.get(WhitelistPushEntry, entry_id)
    if entry is None or entry.push_id != push.id:
        abort(404)
    form = EntryDecisionForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _push_page(push, form, 422)
    try:
        services.decide_push_entry(entry, _user(), form.decision.data == "included", form.reason.data)
        db.session.commit()
    except services.ListRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return _push_page(push, form, 422)
    return redirect(url_for("lists.push", push_id=push.id))


@bp.post("/bureau/whitelist-pushes/<int:push_id>/confirm")
def confirm_push(push_id: int):
    push = _push(push_id)
    try:
        services.confirm_push(push, _user())
        db.session.commit()
    except services.ListRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return _push_page(push, status=422)
    flash(_("白名单推送已确认，银行可在融资线索中查看"), "success")
    return redirect(url_for("lists.push", push_id=push.id))


# ---- institutions: published lists and the confirmed push ----------------------------------------------

@bp.get("/institution/lists")
def institution_lists():
    form = ListFilterForm(request.args)
    if not form.validate():
        flash(_errors(form), "danger")
        form = ListFilterForm(formdata=None)
    page = paginate(services.published_lists(form.kind.data or None, form.year.data))
    html = render_template("lists/institution_lists.html", page=page, form=form, **_common())
    # what the page shows is what was read: logged (and committed) before the page is sent; after
    # rendering, as the commit expires the rows the template reads
    audit.record_credit_reads("credit_list", "published credit lists", [
        (membership.enterprise_id, {"list_kind": membership.list_kind, "year": membership.year})
        for membership in page.items])
    db.session.commit()
    return html


def _whitelist_month(form: MonthFilterForm) -> date | None:
    if form.validate() and form.month.data:
        return date.fromisoformat(form.month.data + "-01")
    return services.latest_confirmed_month()


@bp.get("/institution/whitelist")
def whitelist():
    form = MonthFilterForm(request.args)
    month = _whitelist_month(form)
    page = paginate(services.confirmed_push_entries(month))
    html = render_template("lists/whitelist.html", page=page, month=month, form=form, **_common())
    _log_whitelist_reads(page.items, month, "white-list push review")
    db.session.commit()
    return html


def _log_whitelist_reads(entries: list[WhitelistPushEntry], month: date | None, purpose: str) -> None:
    """Each enterprise of the push shown or downloaded is a credit-data read (logged after the page
    or file is made: the commit that follows expires the rows they read)."""
    details = {"month": month.isoformat() if month else None}
    audit.record_credit_reads("whitelist_push", purpose, [(entry.enterprise_id, details) for entry in entries])


@bp.get("/institution/whitelist.xlsx")
def whitelist_download():
    month = _whitelist_month(MonthFilterForm(request.args))
    entries = list(db.session.scalars(services.confirmed_push_entries(month)))
    workbook = whitelist_xlsx(entries, month)
    _log_whitelist_reads(entries, month, "white-list push download")
    db.session.commit()
    name = month.strftime("%Y-%m") if month else "none"
    return Response(workbook, mimetype=XLSX_TYPE,
                    headers=file_headers(f"{_('白名单推送')}-{name}.xlsx", f"whitelist-{name}.xlsx"))


# ---- the enterprise: consent to be recommended -----------------------------------------------------------

@bp.post("/enterprise/recommendation")
def recommend_consent():
    enterprise = current_enterprise()
    form = RecommendConsentForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return redirect(url_for("enterprises.consents"))
    try:
        services.set_recommend_consent(enterprise, _user(), form.consent.data == "yes")
        db.session.commit()
    except services.ListRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return redirect(url_for("enterprises.consents"))
    flash(_("已同意在白名单推送中被推荐给银行") if form.consent.data == "yes"
          else _("已撤回被推荐的同意"), "success")
    return redirect(url_for("enterprises.consents"))



@bp.app_template_global("whitelist_push_preview")
def whitelist_push_preview(limit: int = 10):
    """The latest confirmed white-list push for the leads page: (month, total, the first entries).
    Names and regions only; the grades are on the white-list page, whose reads are logged."""
    month = services.latest_confirmed_month()
    if month is None:
        return None, 0, []
    query = services.confirmed_push_entries(month)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return month, total, list(db.session.scalars(query.limit(limit)))
