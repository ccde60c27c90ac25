"""Leads for banks and guarantors: verified requests that fit their published products, from
enterprises that consented to share data with them. Each lead shown is a credit-data read."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from marketplace import audit
from marketplace.extensions import db
from marketplace.i18n import is_english
from marketplace.pagination import requested_page
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name
from marketplace.supermarket.pushes import leads_page, product_names

bp = Blueprint("leads", __name__, url_prefix="/institution/leads")


@bp.get("/")
def index():
    page = leads_page(current_user.organisation_id, requested_page(), current_app.config["PAGE_SIZE"])
    html = render_template("supermarket/leads.html", page=page, leads=page.items, products=product_names(page.items),
                           locale="en" if is_english() else "zh", industry_name=industry_name,
                           region_name=region_name)
    # the leads on this page are what was read: logged (and committed) before the page is sent
    audit.record_credit_reads("financing_lead", "lead review",
                              [(lead.request.enterprise_id, {"request_id": lead.request.id}) for lead in page.items])
    db.session.commit()
    return html
