"""The institution's product desk: create, validate, edit (a new version once published),
publish, retire, scoping to the user's institution, and who may use it at all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.supermarket.models import Product, ProductVersion
from tests.factories import UserFactory, make_enterprise_user
from tests.supermarket.products import lender, make_product

VALID = {
    "name": "苏银e融·应收账款质押贷", "product_type": "receivable_pledge",
    "description": "以核心企业应付账款为质押，线上申请、线上放款",
    "amount_min": "100,000", "amount_max": "5000000.00", "term_min_days": "30", "term_max_days": "360",
    "rate_min": "3.45", "rate_max": "5.2%", "min_grade": "B", "accepts_ungraded": "y",
    "industries": ["34", "13", "39"], "regions": "3205，320506", "requires_debtor_confirmation": "y",
}


def product_count(org_id: int) -> int:
    return db.session.scalar(select(func.count(Product.id)).where(Product.institution_id == org_id))


def audit_actions(product: Product) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "products", AuditEvent.object_id == str(product.id)).order_by(AuditEvent.id)))


@pytest.fixture
def banker(login):
    user = lender(name="江苏银行苏州分行")
    login(user)
    return user


def test_staff_create_a_draft_with_every_term(client, banker):
    response = client.post("/institution/products/new", data=VALID)
    product = db.session.scalar(select(Product).where(Product.institution_id == banker.organisation_id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/market/products/{product.id}")
    assert product.state == "draft" and product.created_by_id == banker.id
    v = product.current_version
    assert (v.number, v.name, v.product_type) == (1, "苏银e融·应收账款质押贷", "receivable_pledge")
    assert (v.amount_min, v.amount_max) == (Decimal("100000.00"), Decimal("5000000.00"))
    assert (v.term_min_days, v.term_max_days) == (30, 360)
    assert (v.rate_min, v.rate_max) == (Decimal("3.45"), Decimal("5.20"))
    assert v.min_grade == "B" and v.accepts_ungraded is True
    assert v.industries == ["13", "34", "39"] and v.regions == ["3205", "320506"]
    assert v.requires_guarantee is False and v.requires_debtor_confirmation is True
    assert audit_actions(product) == ["product.created"]


def test_guarantor_staff_create_products_too(client, login):
    guarantor = lender(Role.GUARANTOR_APPROVER)
    login(guarantor)
    data = {**VALID, "product_type": "guaranteed_loan", "requires_guarantee": "y", "min_grade": ""}
    assert client.post("/institution/products/new", data=data).status_code == 302
    product = db.session.scalar(select(Product).where(Product.institution_id == guarantor.organisation_id))
    assert product.current_version.requires_guarantee and product.current_version.min_grade is None


def test_unticked_boxes_and_empty_lists_mean_no_and_all(client, banker):
    data = {k: v for k, v in VALID.items()
            if k not in ("accepts_ungraded", "requires_debtor_confirmation", "industries", "regions")}
    client.post("/institution/products/new", data=data)
    v = db.session.scalar(select(Product).where(Product.institution_id == banker.organisation_id)).current_version
    assert v.accepts_ungraded is False and v.requires_debtor_confirmation is False
    assert v.industries == [] and v.regions == []


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"amount_min": "6,000,000"}, "amount_min", "最低额度不能高于最高额度"),
    ({"term_min_days": "400"}, "term_min_days", "最短期限不能长于最长期限"),
    ({"rate_min": "6.00"}, "rate_min", "最低利率不能高于最高利率"),
    ({"rate_min": "0"}, "rate_min", "年化利率应大于0且不超过24.00%"),
    ({"rate_max": "24.01"}, "rate_max", "年化利率应大于0且不超过24.00%"),
    ({"rate_max": "36"}, "rate_max", "年化利率应大于0且不超过24.00%"),
    ({"rate_min": "3.455"}, "rate_min", "利率最多两位小数"),
    ({"rate_min": "三点五"}, "rate_min", "不是有效的数字"),
    ({"rate_min": "-1"}, "rate_min", "不是有效的数字"),
    ({"amount_min": "0"}, "amount_min", "最低额度必须大于零"),
    ({"amount_max": "-100"}, "amount_max", "最高额度必须大于零"),
    ({"amount_min": "十万"}, "amount_min", "不是有效的数字"),
    ({"amount_max": "100.001"}, "amount_max", "金额最多两位小数"),
    ({"term_min_days": "0"}, "term_min_days", "期限应在1至720天之间"),
    ({"term_max_days": "721"}, "term_max_days", "期限应在1至720天之间"),
    ({"term_max_days": ""}, "term_max_days", "请填写最长期限"),
    ({"industries": ["34", "99"]}, "industries", "未知的行业代码：99"),
    ({"industries": ["C"]}, "industries", "未知的行业代码：C"),
    ({"regions": "3205, 3299, abc"}, "regions", "未知的地区代码：3299、abc"),
    ({"regions": "32050"}, "regions", "未知的地区代码：32050"),
    ({"name": "  "}, "name", "请填写产品名称"),
    ({"name": "贷" * 101}, "name", ""),
    ({"product_type": ""}, "product_type", "请选择产品类型"),
    ({"product_type": "payday_loan"}, "product_type", "请选择产品类型"),
    ({"min_grade": "E"}, "min_grade", "请选择信用等级"),
])
def test_bad_input_is_refused_clearly_and_nothing_is_stored(client, banker, changes, field, message):
    response = client.post("/institution/products/new", data={**VALID, **changes})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in page and message in page
    assert product_count(banker.organisation_id) == 0


def test_the_form_names_the_regions_it_was_given(client, banker):
    page = client.post("/institution/products/new", data={**VALID, "regions": "32, 3205, 3299"}).get_data(as_text=True)
    assert "江苏省" in page and "江苏省苏州市" in page and "未知代码" in page


@pytest.mark.parametrize("typed", ["江苏省、苏州市吴中区", "３２，３２０５０６", "Jiangsu, 320506", "320000 苏州市吴中区"])
def test_regions_are_taken_by_code_or_by_a_name_that_names_one(client, banker, typed):
    client.post("/institution/products/new", data={**VALID, "regions": typed})
    product = db.session.scalar(select(Product).where(Product.institution_id == banker.organisation_id))
    assert product.current_version.regions == ["32", "320506"]


def test_a_region_name_shared_by_several_is_refused(client, banker):
    page = client.post("/institution/products/new", data={**VALID, "regions": "朝阳区"}).get_data(as_text=True)
    assert 'data-testid="error-regions"' in page and product_count(banker.organisation_id) == 0


def test_the_new_product_form_offers_types_grades_and_industries_in_groups(client, banker):
    page = client.get("/institution/products/new").get_data(as_text=True)
    assert '<optgroup label="C 制造业">' in page and '<option value="34">34 通用设备制造业</option>' in page
    for label in ("应收账款质押", "保理", "订单贷", "合同贷", "政采贷", "信用贷", "担保贷", "B级及以上"):
        assert label in page
    assert '<input checked data-testid="p-accepts-ungraded"' in page  # accepting ungraded is the default
    assert '<input data-testid="p-requires-guarantee"' in page


def test_a_draft_is_edited_in_place(app, client, banker):
    product = make_product(app, banker, state="draft")
    response = client.post(f"/institution/products/{product.id}/edit", data={**VALID, "name": "改过的名字"})
    assert response.status_code == 302
    db.session.refresh(product)
    assert product.current_version.number == 1 and product.current_version.name == "改过的名字"
    assert len(product.versions) == 1
    assert audit_actions(product)[-1] == "product.updated"


def test_editing_a_published_product_makes_version_2_and_leaves_version_1_untouched(app, client, banker):
    product = make_product(app, banker, name="原产品", rate_min=Decimal("3.45"), rate_max=Decimal("5.20"),
                           regions=["32"])
    first = product.current_version
    before = {c.name: getattr(first, c.name) for c in ProductVersion.__table__.columns}

    page = client.get(f"/institution/products/{product.id}/edit").get_data(as_text=True)
    assert 'data-testid="new-version-note"' in page and "第 2 版" in page and "仍按第 1 版" in page
    assert 'value="原产品"' in page and 'value="3.45"' in page and 'value="32"' in page

    response = client.post(f"/institution/products/{product.id}/edit",
                           data={**VALID, "name": "原产品（降息）", "rate_min": "3.10"})
    assert response.status_code == 302
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert [v.number for v in product.versions] == [1, 2]
    second = product.current_version
    assert second.number == 2 and second.rate_min == Decimal("3.10") and second.name == "原产品（降息）"
    assert second.published_at is not None and product.state == "published"
    assert {c.name: getattr(db.session.get(ProductVersion, first.id), c.name)
            for c in ProductVersion.__table__.columns} == before
    assert audit_actions(product)[-1] == "product.versioned"
    # the public page shows the new terms
    assert "第 2 版" in client.get(f"/market/products/{product.id}").get_data(as_text=True)


def test_saving_unchanged_terms_makes_no_new_version(app, client, banker):
    product = make_product(app, banker, **{"name": "不变", "industries": ["13"], "regions": ["3205"]})
    page = client.get(f"/institution/products/{product.id}/edit").get_data(as_text=True)
    assert "第 2 版" in page
    data = {"name": "不变", "product_type": "receivable_pledge", "description": "", "amount_min": "100000.00",
            "amount_max": "5000000.00", "term_min_days": "30", "term_max_days": "360", "rate_min": "3.45",
            "rate_max": "5.20", "min_grade": "", "accepts_ungraded": "y", "industries": ["13"], "regions": "3205"}
    response = client.post(f"/institution/products/{product.id}/edit", data=data, follow_redirects=True)
    assert "未生成新版本" in response.get_data(as_text=True)
    assert len(db.session.get(Product, product.id).versions) == 1


def test_a_bad_edit_changes_nothing(app, client, banker):
    product = make_product(app, banker)
    response = client.post(f"/institution/products/{product.id}/edit", data={**VALID, "amount_min": "9,000,000"})
    assert response.status_code == 400 and "最低额度不能高于最高额度" in response.get_data(as_text=True)
    assert len(db.session.get(Product, product.id).versions) == 1


def test_publish_and_retire_change_the_state_and_are_audited(app, client, banker):
    product = make_product(app, banker, state="draft")
    response = client.post(f"/institution/products/{product.id}/publish", follow_redirects=True)
    assert "产品已上架" in response.get_data(as_text=True)
    db.session.refresh(product)
    assert product.state == "published" and product.published_at and product.current_version.published_at

    response = client.post(f"/institution/products/{product.id}/retire", follow_redirects=True)
    assert "产品已下架" in response.get_data(as_text=True)
    db.session.refresh(product)
    assert product.state == "retired" and product.retired_at
    assert audit_actions(product) == ["product.created", "product.published", "product.retired"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(product.id),
                                                         AuditEvent.object_type == "products")).all()
    assert all(e.actor_user_id == banker.id and e.actor_org_id == banker.organisation_id for e in events)

    client.post(f"/institution/products/{product.id}/publish")  # a retired product may come back
    db.session.refresh(product)
    assert product.state == "published" and product.retired_at is None


def test_publishing_twice_or_retiring_a_draft_is_refused_with_a_reason(app, client, banker):
    published = make_product(app, banker)
    page = client.post(f"/institution/products/{published.id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "该产品已上架" in page
    draft = make_product(app, banker, state="draft")
    page = client.post(f"/institution/products/{draft.id}/retire", follow_redirects=True).get_data(as_text=True)
    assert "只有已上架的产品可以下架" in page
    db.session.refresh(draft)
    assert draft.state == "draft"


def test_the_desk_lists_only_the_institutions_own_products_with_state_and_version(app, client, banker):
    mine = [make_product(app, banker, state=s, name=f"本行{s}") for s in ("draft", "published", "retired")]
    colleague = UserFactory(role=Role.BANK_APPROVER, organisation=banker.organisation)
    with app.test_request_context():
        from marketplace.supermarket import services
        services.update_product(mine[1], colleague, services.terms_of(mine[1].current_version))
    theirs = make_product(app, lender(), name="他行产品")
    page = client.get("/institution/products").get_data(as_text=True)
    assert page.count('data-testid="desk-row"') == 3 and "他行产品" not in page
    assert f"/institution/products/{theirs.id}/" not in page and f"/market/products/{theirs.id}\"" not in page
    for label in ("草稿", "已上架", "已下架"):
        assert label in page
    assert "v2" in page and 'data-testid="retire-product"' in page and 'data-testid="publish-product"' in page


def test_the_desk_invites_a_first_product_when_empty(client, banker):
    page = client.get("/institution/products").get_data(as_text=True)
    assert 'data-testid="empty"' in page and "发布第一个产品" in page


def test_another_institutions_product_answers_404_on_every_desk_route(app, client, banker):
    other = make_product(app, lender(name="中国建设银行苏州分行"), name="他行产品")
    draft = make_product(app, lender(Role.GUARANTOR_OFFICER), state="draft")
    for product in (other, draft):
        assert client.get(f"/institution/products/{product.id}/edit").status_code == 404
        assert client.post(f"/institution/products/{product.id}/edit", data=VALID).status_code == 404
        assert client.post(f"/institution/products/{product.id}/publish").status_code == 404
        assert client.post(f"/institution/products/{product.id}/retire").status_code == 404
        assert client.get(f"/institution/products/{product.id}/stats").status_code == 404
    db.session.refresh(other)
    db.session.refresh(draft)
    assert other.state == "published" and other.current_version.name == "他行产品" and len(other.versions) == 1
    assert draft.state == "draft"


@pytest.mark.parametrize("role", [Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_APPLICANT, Role.BUREAU_COORDINATOR,
                                  Role.PLATFORM_ADMIN])
def test_other_roles_are_refused_the_desk(app, client, login, role):
    product = make_product(app, lender())
    user = make_enterprise_user(role) if role.startswith("enterprise:") else UserFactory(role=role)
    login(user)
    for method, url in (("get", "/institution/products"), ("get", "/institution/products/new"),
                        ("post", "/institution/products/new"), ("get", f"/institution/products/{product.id}/edit"),
                        ("post", f"/institution/products/{product.id}/publish"),
                        ("post", f"/institution/products/{product.id}/retire"),
                        ("get", f"/institution/products/{product.id}/stats")):
        assert getattr(client, method)(url).status_code == 403, url
    db.session.refresh(product)
    assert product.state == "published"


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/institution/products")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
