"""Enterprise registration, profile, credit commitment, consents, access log and users."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from marketplace import audit
from marketplace.accounts import management, security, user_pages
from marketplace.accounts.models import User
from marketplace.accounts.roles import ENTERPRISE_ROLES, ROLE_LABELS, Role
from marketplace.enterprises import profile as enterprise_profile
from marketplace.enterprises import registration, services
from marketplace.enterprises.access_log import (
    PURPOSE_LABELS,
    WHAT_LABELS,
    access_log_query,
    actor_names,
)
from marketplace.enterprises.forms import (
    CommitmentSignForm,
    ConfirmForm,
    ConsentForm,
    EnterpriseUserForm,
    ProfileForm,
    RegistrationForm,
    RevokeForm,
)
from marketplace.enterprises.models import CONSENT_PURPOSE_LABELS, SCOPE_LABELS, Consent
from marketplace.extensions import db, limiter
from marketplace.formatting import today_shanghai
from marketplace.i18n import join_list, pick
from marketplace.pagination import paginate
from marketplace.pdf import pdf_response
from marketplace.permissions import current_enterprise, require_owned
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import is_region_code, region_name

bp = Blueprint("enterprises", __name__)


def _registration_email_key() -> str:
    return "register:" + (request.form.get("email") or "").strip().lower()


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_EMAIL"], methods=["POST"],
               key_func=_registration_email_key)
def register():
    """The same answer whether or not the email has an account (registration.py)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = RegistrationForm()
    if form.validate_on_submit():
        send_email = registration.request_registration(
            name=form.enterprise_name.data, uscc=form.uscc.data, user_name=form.name.data, email=form.email.data,
            password=form.password.data,
        )
        db.session.commit()
        send_email()
        return render_template("enterprises/register_sent.html", email=form.email.data.strip().lower())
    return render_template("enterprises/register.html", form=form)


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def confirm_registration(token: str):
    """The emailed link: a button (POST) confirms, so a mail scanner opening the link does not."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("enterprises/register_confirm.html", form=form)
    try:
        user = registration.confirm(token)
    except registration.LinkRefused as e:
        flash(str(e), "danger")
        return redirect(url_for("enterprises.register"))
    if not user.is_active:
        db.session.commit()
        flash(_("该账户已停用，请联系平台"), "danger")
        return redirect(url_for("accounts.login"))
    session.clear()
    login_user(user)
    db.session.commit()
    flash(_("注册成功。下面的清单列出了首次融资申请还需要完成的事项。"), "success")
    return redirect(url_for("onboarding.start"))


@bp.get("/enterprise")
def profile():
    enterprise = current_enterprise()
    return render_template(
        "enterprises/profile.html", ent=enterprise, signature=services.current_signature(enterprise),
        industry=industry_name(enterprise.industry_code) if enterprise.industry_code else "",
        region=region_name(enterprise.region_code), facts=enterprise_profile.credit_code_facts(enterprise),
        missing=[pick(enterprise_profile.PROFILE_FIELDS[name]) for name in enterprise_profile.missing_fields(enterprise)],
    )


@bp.route("/enterprise/profile/complete", methods=["GET", "POST"])
def complete_profile():
    """What registration left for later (legal representative, industry, county, phone), needed
    before the first financing request; the county is preset from the credit code when it names one."""
    enterprise = current_enterprise()
    form = ProfileForm(obj=enterprise, has_id_number=bool(enterprise.legal_rep_id_number))
    if not form.is_submitted():
        form.legal_rep_id_number.data = ""  # never shown unmasked, not even in a field's value
        if not is_region_code(enterprise.region_code):
            form.region_code.data = ""  # the credit code named a city or province: the picker asks the county
    if form.validate_on_submit():
        services.complete_profile(
            enterprise, current_user._get_current_object(), legal_rep_name=form.legal_rep_name.data,
            legal_rep_id_number=form.legal_rep_id_number.data, industry_code=form.industry_code.data,
            region_code=form.region_code.data, contact_phone=form.contact_phone.data, park=form.park.data,
            address=form.address.data)
        db.session.commit()
        flash(_("企业资料已补全"), "success")
        return redirect(url_for("onboarding.start"))
    return render_template("enterprises/profile_form.html", form=form, ent=enterprise,
                           facts=enterprise_profile.credit_code_facts(enterprise),
                           division=enterprise_profile.division_name(enterprise.region_code),
                           ), 400 if form.is_submitted() else 200


@bp.get("/enterprise/commitment")
def commitment():
    enterprise = current_enterprise()
    text = services.current_commitment_text()
    db.session.commit()
    form = CommitmentSignForm(signer_name=current_user.name)
    return render_template("enterprises/commitment.html", text=text, form=form,
                           signature=services.current_signature(enterprise))


@bp.post("/enterprise/commitment")
def sign_commitment():
    enterprise = current_enterprise()
    form = CommitmentSignForm()
    if not form.validate_on_submit():
        text = services.current_commitment_text()
        return render_template("enterprises/commitment.html", text=text, form=form, signature=None), 400
    services.sign_commitment(enterprise, current_user._get_current_object(), form.signer_name.data, request.remote_addr)
    db.session.commit()
    flash(_("信用承诺书已签署"), "success")
    return redirect(url_for("enterprises.commitment"))


@bp.get("/enterprise/commitment.pdf")
def commitment_pdf():
    enterprise = current_enterprise()
    signature = services.current_signature(enterprise)
    if signature is None:
        abort(404)
    return pdf_response("pdf/commitment.html", f"commitment-{enterprise.uscc}.pdf", ent=enterprise,
                        signature=signature, text=signature.text)


@bp.get("/enterprise/consents")
def consents():
    enterprise = current_enterprise()
    rows = db.session.scalars(
        select(Consent).where(Consent.enterprise_id == enterprise.id)
        .options(joinedload(Consent.grantee))  # each row names the institution
        .order_by(Consent.id.desc())
    ).all()
    return render_template("enterprises/consents.html", consents=rows, today=today_shanghai(),
                           scope_labels=SCOPE_LABELS, purpose_labels=CONSENT_PURPOSE_LABELS, revoke_form=RevokeForm())


@bp.route("/enterprise/consents/new", methods=["GET", "POST"])
def new_consent():
    enterprise = current_enterprise()
    form = ConsentForm(labels=pick)
    form.grantee_org_id.choices = [(0, _("请选择机构"))] + [(o.id, o.name) for o in services.grantable_institutions()]
    if form.validate_on_submit():
        if form.grantee_org_id.data not in {o.id for o in services.grantable_institutions()}:
            form.grantee_org_id.errors.append(_("请选择机构"))
        else:
            services.grant_consent(
                enterprise, current_user._get_current_object(), grantee_org_id=form.grantee_org_id.data,
                scopes=form.scopes.data, purposes=form.purposes.data, purpose=form.purpose.data,
                valid_from=form.valid_from.data,
                valid_to=form.valid_to.data,
            )
            db.session.commit()
            flash(_("授权已生效"), "success")
            return redirect(url_for("enterprises.consents"))
    return render_template("enterprises/consent_form.html", form=form)


@bp.post("/enterprise/consents/<int:consent_id>/revoke")
def revoke_consent(consent_id: int):
    consent = require_owned(db.session.get(Consent, consent_id))
    if RevokeForm().validate_on_submit():
        closed = services.revoke_consent(consent, current_user._get_current_object())
        db.session.commit()
        flash(_("授权已撤销，该机构将无法再查询相关数据"), "success")
        if closed:
            flash(_("%(name)s 对您 %(n)s 笔融资申请的审查已终止：%(ids)s。详情见各申请页。", name=consent.grantee.name,
                    n=len(closed), ids=join_list(f"#{i}" for i in closed)), "info")
    return redirect(url_for("enterprises.consents"))


@bp.get("/enterprise/access-log")
def access_log():
    enterprise = current_enterprise()
    page = paginate(access_log_query(enterprise.id))
    org_names, user_names = actor_names(page.items)
    return render_template("enterprises/access_log.html", page=page, org_names=org_names, user_names=user_names,
                           what_labels=WHAT_LABELS, purpose_labels=PURPOSE_LABELS)


@bp.get("/enterprise/users")
def users():
    enterprise = current_enterprise()
    q, status = (request.args.get(k, "").strip() for k in ("q", "status"))
    status = status if status in management.STATUSES else ""
    page = paginate(management.users_query(term=q, organisation_id=enterprise.organisation_id, status=status))
    return render_template("enterprises/users.html", page=page, q=q, kind="", status=status, kinds=None,
                           scope="enterprises", role_labels=ROLE_LABELS)


def _own_user_or_404(user_id: int) -> User:
    """A user of the current user's enterprise; 404 for any other (ids of others are not confirmed)."""
    user = db.session.get(User, user_id)
    if user is None or user.organisation_id != current_enterprise().organisation_id:
        abort(404)
    return user


@bp.get("/enterprise/users/<int:user_id>")
def user(user_id: int):
    return user_pages.render_user(_own_user_or_404(user_id), "enterprises")


@bp.post("/enterprise/users/<int:user_id>/disable")
def disable_user(user_id: int):
    return user_pages.disable(_own_user_or_404(user_id), "enterprises")


@bp.post("/enterprise/users/<int:user_id>/enable")
def enable_user(user_id: int):
    return user_pages.enable(_own_user_or_404(user_id), "enterprises")


@bp.post("/enterprise/users/<int:user_id>/role")
def change_user_role(user_id: int):
    return user_pages.change_role(_own_user_or_404(user_id), "enterprises")


@bp.route("/enterprise/users/new", methods=["GET", "POST"])
def new_user():
    enterprise = current_enterprise()
    form = EnterpriseUserForm()
    form.role.choices = [(r.value, pick(ROLE_LABELS[r])) for r in sorted(ENTERPRISE_ROLES)]
    if form.validate_on_submit():
        user = User(organisation_id=enterprise.organisation_id, name=form.name.data.strip(),
                    email=form.email.data.strip().lower(), role=Role(form.role.data),
                    password_hash=security.hash_password(form.password.data))
        db.session.add(user)
        db.session.flush()
        audit.record("user.created", user, enterprise_id=enterprise.id, role=user.role)
        db.session.commit()
        flash(_("用户已添加"), "success")
        return redirect(url_for("enterprises.users"))
    return render_template("enterprises/user_form.html", form=form)
