"""Landing page, language switch, role dashboard, reference data (health checks: marketplace/health.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from marketplace.accounts.roles import ENTERPRISE_ROLES, Role
from marketplace.reference.regions import region_tree
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
    return redirect(safe_next(request.args.get("next")) or url_for("main.index"))


@bp.get("/dashboard")
def dashboard():
    if current_user.role in ENTERPRISE_ROLES:
        return redirect(url_for("enterprises.profile"))
    if current_user.role == Role.PLATFORM_ADMIN:
        return redirect(url_for("admin.institutions"))
    if current_user.role == Role.BUREAU_COORDINATOR:
        return redirect(url_for("bureau_dashboard.index"))
    if current_user.role == Role.PROVIDER_STAFF:
        return redirect(url_for("provider_records.index"))
    return render_template("main/staff_dashboard.html")


@bp.get("/reference/regions.json")
def regions():
    """The division-code tree for the cascading region picker."""
    response = current_app.json.response(region_tree())
    response.cache_control.max_age = 86400
    response.cache_control.public = True
    return response
