"""Landing page, language switch, role dashboard, reference data (health checks: marketplace/health.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from marketplace.accounts.roles import ENTERPRISE_ROLES, Role
from marketplace.extensions import db
from marketplace.main import home
from marketplace.permissions import current_enterprise
from marketplace.reference.regions import region_tree_in
from marketplace.web_security import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated and current_user.locale != code:  # emails follow the choice
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next(request.args.get("next")) or url_for("main.index"))


@bp.get("/dashboard")
def dashboard():
    """Each role's home: the day's work for enterprises, banks and guarantors (marketplace.main.home);
    the bureau, the platform admin and data providers land on their own first page."""
    user = current_user._get_current_object()
    if user.role in ENTERPRISE_ROLES:
        enterprise = current_enterprise()
        return render_template("main/enterprise_home.html", ent=enterprise,
                               sections={s.key: s for s in home.enterprise_sections(enterprise)})
    if user.role == Role.PLATFORM_ADMIN:
        return redirect(url_for("admin.institutions"))
    if user.role == Role.BUREAU_COORDINATOR:
        return redirect(url_for("bureau_dashboard.index"))
    if user.role == Role.PROVIDER_STAFF:
        return redirect(url_for("provider_records.index"))
    return render_template("main/staff_dashboard.html", sections={s.key: s for s in home.lender_sections(user)})


@bp.get("/reference/regions.json")
def regions():
    """The division-code tree for the cascading region picker; ?lang=en names it in English."""
    response = current_app.json.response(region_tree_in("en" if request.args.get("lang") == "en" else "zh"))
    response.cache_control.max_age = 86400
    response.cache_control.public = True
    return response
