"""The first-application checklist at /enterprise/start and its one-step consents (issue 19)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.roles import Role
from marketplace.enterprises.models import CONSENT_PURPOSE_LABELS, SCOPE_LABELS
from marketplace.enterprises.profile import PROFILE_FIELDS
from marketplace.extensions import db
from marketplace.i18n import join_list, pick
from marketplace.onboarding import services
from marketplace.onboarding.forms import ProposedConsentsForm
from marketplace.permissions import current_enterprise, is_enterprise_admin
from workflows.verification.bank_guides import GUIDES


def _purpose() -> str:
    """The purpose the one-step consents state, in the enterprise's words (shown before granting)."""
    return _("首次融资申请的审查、授信及贷后管理")


bp = Blueprint("onboarding", __name__)


@bp.get("/enterprise/start")
def start():
    """What remains between registration and a submitted request, one action per step;
    `?bank=icbc` picks the bank whose export menu the statement step names."""
    enterprise = current_enterprise()
    checklist = services.checklist(enterprise, request.args.get("bank"))
    admins = [u.name for u in enterprise.organisation.users if u.active and u.role == Role.ENTERPRISE_ADMIN]
    steps = {s.key: s for s in checklist.steps}
    return render_template(
        "onboarding/start.html", checklist=checklist, steps=steps, banks=GUIDES, form=ProposedConsentsForm(),
        validity=services.proposed_validity(), purpose=_purpose(),
        missing=[pick(PROFILE_FIELDS[name]) for name in steps["profile"].facts["missing"]],
        scope_names=[pick(SCOPE_LABELS[scope]) for scope in services.PROPOSED_SCOPES],
        purpose_names={p.institution.id: [pick(CONSENT_PURPOSE_LABELS[code]) for code in p.purposes]
                       for p in checklist.proposals},
        is_admin=is_enterprise_admin(current_user), admins=admins)


@bp.post("/enterprise/start/consents")
def grant_consents():
    """The proposed consents, granted in one submit to every institution ticked."""
    enterprise = current_enterprise()
    form = ProposedConsentsForm()
    if not form.validate_on_submit():
        flash(_("页面已过期，请刷新后重试"), "danger")
        return redirect(url_for("onboarding.start", _anchor="step-consents"))
    try:
        granted = services.grant_proposed_consents(enterprise, current_user._get_current_object(),
                                                   form.institutions.data, _purpose())
    except services.NothingChosen:
        flash(_("请至少勾选一家机构"), "danger")
        return redirect(url_for("onboarding.start", _anchor="step-consents"))
    except services.NotProposed:
        flash(_("所选机构已不在推荐名单中（可能已在其他页面授权），请核对后重新提交"), "danger")
        return redirect(url_for("onboarding.start", _anchor="step-consents"))
    db.session.commit()
    flash(_("已授权 %(names)s 查询贵企业的银行流水，可随时在“数据授权”中撤销",
            names=join_list(c.grantee.name for c in granted)), "success")
    return redirect(url_for("onboarding.start"))
