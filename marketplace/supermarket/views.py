"""The financing supermarket (金融超市): the public catalogue and product pages, and the
institution's product desk (create, edit, publish, retire, statistics)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.i18n import is_english, pick
from marketplace.pagination import paginate
from marketplace.permissions import LENDER_STAFF
from marketplace.reference.industries import INDUSTRY_DIVISIONS, INDUSTRY_SECTIONS, industry_name
from marketplace.reference.regions import region_prefix_name
from marketplace.supermarket import pushes, services
from marketplace.supermarket.charts import bar_chart
from marketplace.supermarket.forms import ActionForm, MarketFilterForm, ProductForm
from marketplace.supermarket.models import (
    DEBTOR_KINDS,
    PRODUCT_STATES,
    PRODUCT_TYPES,
    Product,
    ProductStat,
)
from workflows.identifiers import DebtorKind, debtor_kind

bp = Blueprint("supermarket", __name__)

STATE_BADGES = {"draft": "neutral", "published": "ok", "retired": "warn"}
STATS_DAYS = 30


@bp.app_template_filter("product_type")
def product_type_filter(code: str) -> str:
    return pick(PRODUCT_TYPES[code]) if code in PRODUCT_TYPES else code


@bp.app_template_filter("product_state")
def product_state_filter(state: str) -> str:
    return pick(PRODUCT_STATES[state]) if state in PRODUCT_STATES else state


@bp.app_template_filter("pct")
def pct_filter(rate) -> str:
    """An annual rate as 4.35%."""
    return "" if rate is None else f"{Decimal(rate).quantize(Decimal('0.01'))}%"


@bp.app_template_filter("debtor_kinds")
def debtor_kinds_filter(kinds) -> str:
    """Debtor kinds by name in the page's language: 机关、事业单位等公共机构、企业."""
    return (", " if is_english() else "、").join(pick(DEBTOR_KINDS[k]) for k in kinds or [] if k in DEBTOR_KINDS)


@bp.app_template_filter("debtor_kind")
def debtor_kind_filter(uscc: str) -> DebtorKind:
    """What a debtor's credit code says about it: category (GB 32100 characters 1-2) and kind."""
    return debtor_kind(uscc or "")


@bp.app_template_filter("region_scope")
def region_scope_filter(codes) -> str:
    """Division-code prefixes by name: 江苏省苏州市、江苏省苏州市吴中区 (Suzhou, Jiangsu; Wuzhong District, ...)."""
    return _names_separator().join(region_prefix_name(code) for code in codes or [])


@bp.app_template_filter("industry_scope")
def industry_scope_filter(codes) -> str:
    """Industries in brief: a section's name when all its divisions are listed (制造业), else the
    divisions' names, the first two and a count when there are more than three."""
    chosen = set(codes or [])
    items = []
    for letter in INDUSTRY_SECTIONS:
        divisions = [code for code, (sec, _name) in INDUSTRY_DIVISIONS.items() if sec == letter]
        if divisions and chosen.issuperset(divisions):
            items.append(industry_name(letter))
        else:
            items += [industry_name(code) for code in divisions if code in chosen]
    if len(items) > 3:
        return _("%(first)s等%(n)s类行业", first=_names_separator().join(items[:2]), n=len(items))
    return _names_separator().join(items)


def _names_separator() -> str:
    """Between names in a list: 、 in Chinese; "; " in English, whose names hold commas."""
    return "; " if is_english() else "、"


def _is_owner_staff(product: Product) -> bool:
    return (current_user.is_authenticated and LENDER_STAFF.admits(current_user.role)
            and current_user.organisation_id == product.institution_id)


def _own_product(product_id: int) -> Product:
    """The product, if it belongs to the current user's institution; 404 otherwise (another
    institution's ids are not confirmed to exist)."""
    product = db.session.scalar(select(Product).where(
        Product.id == product_id, Product.institution_id == current_user.organisation_id))
    if product is None:
        abort(404)
    return product


def _industry_names(codes) -> list[str]:
    return [f"{code} {industry_name(code)}" if code in INDUSTRY_DIVISIONS else code for code in codes]


def _region_names(codes) -> list[str]:
    return [region_prefix_name(code) for code in codes]


# ---- the public supermarket ------------------------------------------------------------------

@bp.get("/market")
def market():
    form = MarketFilterForm(request.args, institutions=services.lending_institutions())
    form.validate()
    page = paginate(services.catalogue_query(services.CatalogueFilter(**form.filters())))
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("supermarket/market.html", form=form, page=page, args=args,
                           filtered=bool(args), state_badges=STATE_BADGES)


@bp.get("/market/products/<int:product_id>", endpoint="product")
def product_page(product_id: int):
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    owner = _is_owner_staff(product)
    if not owner and (product.state != "published" or not product.institution.active):
        abort(404)
    if not owner:
        services.count([product.id], "views")
        db.session.commit()
    version = product.current_version
    return render_template(
        "supermarket/product.html", product=product, version=version, owner=owner,
        industries=_industry_names(version.industries or []), regions=_region_names(version.regions or []),
        state_badges=STATE_BADGES, form=ActionForm(),
    )


# ---- the institution's product desk ----------------------------------------------------------

@bp.get("/institution/products")
def desk():
    page = paginate(services.institution_products(current_user.organisation_id))
    ids = [p.id for p in page.items]
    totals = {}
    if ids:
        rows = db.session.execute(
            select(ProductStat.product_id, func.sum(ProductStat.views), func.sum(ProductStat.applications))
            .where(ProductStat.product_id.in_(ids)).group_by(ProductStat.product_id)
        ).all()
        totals = {pid: (views, applications) for pid, views, applications in rows}
    return render_template("supermarket/desk.html", page=page, totals=totals, state_badges=STATE_BADGES,
                           form=ActionForm())


def _form_page(form: ProductForm, product: Product | None, status: int = 200):
    return render_template("supermarket/product_form.html", form=form, product=product), status


@bp.route("/institution/products/new", methods=["GET", "POST"])
def new_product():
    form = ProductForm()
    if form.validate_on_submit():
        product = services.create_product(current_user.organisation, current_user._get_current_object(),
                                          form.terms())
        db.session.commit()
        flash(_("产品已保存为草稿，核对无误后请上架"), "success")
        return redirect(url_for("supermarket.product", product_id=product.id))
    return _form_page(form, None, 400 if form.is_submitted() else 200)


@bp.route("/institution/products/<int:product_id>/edit", methods=["GET", "POST"])
def edit_product(product_id: int):
    product = _own_product(product_id)
    form = ProductForm() if request.method == "POST" else ProductForm.for_version(product.current_version)
    if form.validate_on_submit():
        terms = form.terms()
        if terms.columns() == services.terms_of(product.current_version).columns():
            flash(_("产品条款没有变化，未生成新版本"), "info")
            return redirect(url_for("supermarket.product", product_id=product.id))
        version = services.update_product(product, current_user._get_current_object(), terms)
        if product.state == "published":
            pushes.on_product_published(product)  # the new terms may fit requests the old ones did not
        db.session.commit()
        if version.number > 1 and product.state != "draft":
            flash(_("已生成第 %(n)s 版产品条款；此前提交的申请仍按原版本执行", n=version.number), "success")
        else:
            flash(_("产品已保存"), "success")
        return redirect(url_for("supermarket.product", product_id=product.id))
    return _form_page(form, product, 400 if form.is_submitted() else 200)


@bp.post("/institution/products/<int:product_id>/publish")
def publish_product(product_id: int):
    product = _own_product(product_id)
    if ActionForm().validate_on_submit():
        try:
            services.publish_product(product, current_user._get_current_object())
        except services.ProductRefused as refusal:
            flash(_(str(refusal)), "warning")
        else:
            pushes.on_product_published(product)
            db.session.commit()
            flash(_("产品已上架，企业现在可以在金融超市看到它"), "success")
    return redirect(url_for("supermarket.desk"))


@bp.post("/institution/products/<int:product_id>/retire")
def retire_product(product_id: int):
    product = _own_product(product_id)
    if ActionForm().validate_on_submit():
        try:
            services.retire_product(product, current_user._get_current_object())
        except services.ProductRefused as refusal:
            flash(_(str(refusal)), "warning")
        else:
            db.session.commit()
            flash(_("产品已下架；已提交的申请不受影响"), "success")
    return redirect(url_for("supermarket.desk"))


@bp.get("/institution/products/<int:product_id>/stats")
def product_stats(product_id: int):
    product = _own_product(product_id)
    today = today_shanghai()
    rows = {row.day: row for row in services.stats_by_day(product.id, STATS_DAYS)}
    days = [today - timedelta(days=offset) for offset in range(STATS_DAYS - 1, -1, -1)]
    daily = [(day, rows.get(day)) for day in days]
    charts = {}
    for counter, label, color in (("views", _("浏览"), "#2b6cb0"), ("matches", _("匹配"), "#1a7f37"),
                                  ("applications", _("申请"), "#b42318")):
        series = [(f"{day:%m-%d}", getattr(row, counter) if row else 0) for day, row in daily]
        charts[counter] = bar_chart(
            series, color=color, title=_("近%(n)s天每日%(what)s次数", n=STATS_DAYS, what=label),
            description=_("%(start)s 至 %(end)s，每天一根柱，合计 %(total)s 次",
                          start=days[0].isoformat(), end=days[-1].isoformat(),
                          total=sum(value for _label, value in series)),
        )
    return render_template("supermarket/stats.html", product=product, totals=services.stats_totals(product.id),
                           offer_figures=services.offer_figures(product), daily=daily, charts=charts, days=STATS_DAYS)
