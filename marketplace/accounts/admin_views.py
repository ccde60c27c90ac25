"""Platform administration: institutions, their staff users, enterprises, the audit log."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts import audit_log as audit_log_page
from marketplace.accounts import management, payee_account, security, user_pages
from marketplace.accounts.forms import InstitutionForm, PayeeAccountForm, StaffUserForm
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import (
    INSTITUTION_KINDS,
    ORG_KIND_LABELS,
    ROLE_LABELS,
    OrgKind,
    roles_for_kind,
)
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.i18n import is_english, pick
from marketplace.pagination import paginate
from marketplace.workcalendar.services import years_without_makeup_days
from workflows.credit_records import SOURCE_LABELS, SOURCES

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/institutions")
def institutions():
    page = paginate(
        select(Organisation).where(Organisation.kind != OrgKind.ENTERPRISE).order_by(Organisation.kind, Organisation.id)
    )
    return render_template("admin/institutions.html", page=page, kind_labels=ORG_KIND_LABELS,
                           user_counts=management.user_counts([org.id for org in page.items]),
                           years_without_makeup_days=years_without_makeup_days())


@bp.route("/institutions/new", methods=["GET", "POST"])
def new_institution():
    form = InstitutionForm()
    form.kind.choices = [(k.value, pick(ORG_KIND_LABELS[k])) for k in INSTITUTION_KINDS]
    form.credit_source.choices = [("", "—")] + [(s, pick(SOURCE_LABELS[s])) for s in SOURCES]
    if form.validate_on_submit():
        org = Organisation(kind=form.kind.data, name=form.name.data.strip(),
                           region_code=form.region_code.data or None, contact=form.contact.data or None,
                           credit_source=form.credit_source.data or None)
        db.session.add(org)
        db.session.flush()
        audit.record("institution.created", org, kind=org.kind, name=org.name, credit_source=org.credit_source)
        db.session.commit()
        flash(_("机构已创建，请为其添加工作人员"), "success")
        return redirect(url_for("admin.institution", org_id=org.id))
    return render_template("admin/institution_form.html", form=form)


def _institution_or_404(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None or org.kind == OrgKind.ENTERPRISE:
        abort(404)
    return org


@bp.get("/institutions/<int:org_id>")
def institution(org_id: int):
    org = _institution_or_404(org_id)
    return render_template("admin/institution.html", org=org, role_labels=ROLE_LABELS, kind_labels=ORG_KIND_LABELS,
                           source_labels=SOURCE_LABELS, payee_kinds=payee_account.PAYEE_KINDS,
                           payee_account=payee_account.payee_account_of(org))


@bp.route("/institutions/<int:org_id>/payee-account", methods=["GET", "POST"])
def payee_account_form(org_id: int):
    """The bank's or guarantor's payee account: the number is typed in full on every save and
    shown back masked (only the payee's staff and a paying enterprise see it whole)."""
    org = _institution_or_404(org_id)
    if org.kind not in payee_account.PAYEE_KINDS:
        abort(404)
    current = payee_account.payee_account_of(org)
    form = PayeeAccountForm(account_name=current.name if current else None,
                            bank_name=current.bank if current else None)
    if form.validate_on_submit():
        try:
            payee_account.set_payee_account(org, current_user._get_current_object(), name=form.account_name.data,
                                            bank=form.bank_name.data, number=form.account_number.data)
        except payee_account.AccountRefused as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("收款账户已保存"), "success")
            return redirect(url_for("admin.institution", org_id=org.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/payee_account_form.html", form=form, org=org, current=current), status


@bp.route("/institutions/<int:org_id>/users/new", methods=["GET", "POST"])
def new_user(org_id: int):
    org = _institution_or_404(org_id)
    form = StaffUserForm()
    form.role.choices = [(r.value, pick(ROLE_LABELS[r])) for r in roles_for_kind(OrgKind(org.kind))]
    if form.validate_on_submit():
        user = User(organisation=org, name=form.name.data.strip(), email=form.email.data.strip().lower(),
                    role=form.role.data, password_hash=security.hash_password(form.password.data))
        db.session.add(user)
        db.session.flush()
        audit.record("user.created", user, role=user.role, email=user.email)
        db.session.commit()
        flash(_("用户已创建。首次登录时须绑定动态验证码。"), "success")
        return redirect(url_for("admin.institution", org_id=org.id))
    return render_template("admin/user_form.html", form=form, org=org)


@bp.post("/users/<int:user_id>/reset-totp")
def reset_totp(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff:
        abort(404)
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    user.auth_generation += 1
    audit.record("user.totp_reset", user)
    db.session.commit()
    flash(_("已重置该用户的动态验证码，其下次登录时须重新绑定"), "success")
    return redirect(url_for("admin.institution", org_id=user.organisation_id))


@bp.get("/users")
def users():
    """Every organisation's users: search by name, email or organisation, filter by kind and status."""
    q, kind, status = (request.args.get(k, "").strip() for k in ("q", "kind", "status"))
    kind = kind if kind in set(OrgKind) else ""
    status = status if status in management.STATUSES else ""
    page = paginate(management.users_query(term=q, kind=kind, status=status))
    return render_template("admin/users.html", page=page, q=q, kind=kind, status=status, scope="admin",
                           kinds=list(ORG_KIND_LABELS.items()), role_labels=ROLE_LABELS)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    return user_pages.render_user(_user_or_404(user_id), "admin")


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id: int):
    return user_pages.disable(_user_or_404(user_id), "admin")


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id: int):
    return user_pages.enable(_user_or_404(user_id), "admin")


@bp.post("/users/<int:user_id>/role")
def change_user_role(user_id: int):
    return user_pages.change_role(_user_or_404(user_id), "admin")


@bp.get("/enterprises")
def enterprises():
    query = select(Enterprise).order_by(Enterprise.id)
    term = (request.args.get("q") or "").strip()
    if term:
        query = query.where(Enterprise.name.contains(term) | (Enterprise.uscc == term.upper()))
    return render_template("admin/enterprises.html", page=paginate(query), q=term)


@bp.get("/enterprises/<int:enterprise_id>")
def enterprise(enterprise_id: int):
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None:
        abort(404)
    audit.record_credit_read(ent.id, "enterprise_profile", purpose="platform administration")
    db.session.commit()
    return render_template("admin/enterprise.html", ent=ent)


@bp.get("/audit")
def audit_log():
    filters = audit_log_page.AuditFilters.from_args(request.args)
    page = paginate(audit_log_page.events_query(filters))
    return render_template("admin/audit.html", page=page, filters=filters, names=audit_log_page.Names.of(page.items),
                           object_types=audit_log_page.object_types(), action_words=audit_log_page.action_words,
                           object_words=audit_log_page.object_words, purpose_labels=audit_log_page.PURPOSE_LABELS,
                           details_text=audit_log_page.details_text)


@bp.get("/audit.xlsx")
def audit_export():
    filters = audit_log_page.AuditFilters.from_args(request.args)
    data, truncated = audit_log_page.export_xlsx(filters, english=is_english())
    audit.record("audit_log.exported", object_type="audit_events", truncated=truncated, filters=filters.as_args())
    db.session.commit()
    response = send_file(io.BytesIO(data), as_attachment=True, download_name=f"audit-{today_shanghai():%Y%m%d}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Cache-Control"] = "no-store"
    if truncated:
        response.headers["X-Export-Truncated"] = str(audit_log_page.EXPORT_MAX_ROWS)
    return response
