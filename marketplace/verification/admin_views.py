"""Platform administration of the verification policy: versions, a new version, one version."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.verification import policies
from marketplace.verification.forms import THRESHOLD_FIELDS, policy_form
from marketplace.verification.models import PolicyVersion
from workflows.verification.policy import DEFAULT_POLICY, THRESHOLD_LABELS, PolicyError

bp = Blueprint("policies", __name__, url_prefix="/admin/policies")


@bp.get("")
def index():
    today = today_shanghai()
    in_force = policies.current_policy(today)
    rows = {row.version: row for row in policies.stored_versions()}
    return render_template("verification/policies.html", policies=policies.all_policies(), rows=rows,
                           in_force=in_force, today=today, default=DEFAULT_POLICY)


@bp.route("/new", methods=["GET", "POST"])
def new():
    current = policies.current_policy()
    form = policy_form(current.thresholds)
    if form.is_submitted():
        form.validate()
        if not form.errors:
            try:
                row = policies.create_policy_version(current_user, form.version.data, form.effective_from.data,
                                                     form.thresholds_data(), form.note.data or "")
            except PolicyError as error:
                form.place_problems(error.problems)
            else:
                db.session.commit()
                flash(_("新的核验策略版本已保存，自生效日期起适用"), "success")
                return redirect(url_for("policies.detail", version_id=row.id))
    return render_template("verification/policy_form.html", form=form, current=current,
                           fields=THRESHOLD_FIELDS)


@bp.get("/<int:version_id>")
def detail(version_id: int):
    row = db.session.get(PolicyVersion, version_id)
    if row is None:
        abort(404)
    policy = policies.as_policy(row)
    in_force = policies.current_policy()
    return render_template("verification/policy.html", row=row, policy=policy, labels=THRESHOLD_LABELS,
                           in_force=in_force.version == row.version)


@bp.get("/default")
def default():
    return render_template("verification/policy.html", row=None, policy=DEFAULT_POLICY, labels=THRESHOLD_LABELS,
                           in_force=policies.current_policy().version == DEFAULT_POLICY.version)
