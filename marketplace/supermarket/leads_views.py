"""Leads for banks and guarantors: verified requests that fit their published products, from
enterprises that consented to share data with them. Each view of a lead is a credit-data read."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from marketplace import audit
from marketplace.extensions import db
from marketplace.i18n import is_english
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name
from marketplace.supermarket.models import Product
from marketplace.supermarket.pushes import leads_for

bp = Blueprint("leads", __name__, url_prefix="/institution/leads")


@bp.get("/")
def index():
    leads = leads_for(current_user.organisation_id)
    for lead in leads:
        audit.record_credit_read(lead.request.enterprise_id, "financing_lead", purpose="lead review",
                                 request_id=lead.request.id)
    db.session.commit()
    products = {lead.match.product_id: db.session.get(Product, lead.match.product_id) for lead in leads}
    return render_template("supermarket/leads.html", leads=leads, products=products,
                           locale="en" if is_english() else "zh", industry_name=industry_name,
                           region_name=region_name)
