"""The public supermarket: browsing without logging in, each filter, Chinese search, pagination,
the product page (terms, view counting, the call to action) and what stays hidden."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest

from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.supermarket import services
from tests.factories import make_enterprise_user
from tests.supermarket.products import lender, make_product, shown_ids


@pytest.fixture
def catalogue(app):
    """Five published products that differ in one criterion each, plus a draft and a retired one."""
    ccb = lender(name="中国建设银行苏州分行")
    js = lender(name="江苏银行苏州分行")
    guarantor = lender(Role.GUARANTOR_OFFICER, name="苏州市创信融资担保有限公司")
    products = {
        "pledge": make_product(app, ccb, name="建行云e贷·应收账款质押", product_type="receivable_pledge",
                               amount_min=Decimal("100000"), amount_max=Decimal("3000000"),
                               term_min_days=30, term_max_days=180, rate_min=Decimal("3.45"),
                               rate_max=Decimal("5.20")),
        "factoring": make_product(app, ccb, name="建行e点通", product_type="factoring",
                                  amount_min=Decimal("500000"), amount_max=Decimal("10000000"),
                                  term_min_days=90, term_max_days=360, rate_min=Decimal("3.85"),
                                  rate_max=Decimal("4.60"), requires_debtor_confirmation=True),
        "order": make_product(app, js, name="苏银e融·订单快贷", product_type="order_loan",
                              amount_min=Decimal("200000"), amount_max=Decimal("2000000"),
                              term_min_days=60, term_max_days=720, rate_min=Decimal("4.20"),
                              rate_max=Decimal("6.50"), min_grade="B", accepts_ungraded=False),
        "credit": make_product(app, js, name="苏银科技信用贷", product_type="credit_loan",
                               amount_min=Decimal("100000"), amount_max=Decimal("1000000"),
                               term_min_days=90, term_max_days=365, rate_min=Decimal("5.80"),
                               rate_max=Decimal("8.50"), description="面向高新技术企业的纯信用贷款"),
        "guaranteed": make_product(app, guarantor, name="创信惠企担保贷", product_type="guaranteed_loan",
                                   amount_min=Decimal("300000"), amount_max=Decimal("5000000"),
                                   term_min_days=180, term_max_days=360, rate_min=Decimal("4.80"),
                                   rate_max=Decimal("6.00"), requires_guarantee=True),
        "draft": make_product(app, ccb, state="draft", name="建行草稿产品"),
        "retired": make_product(app, js, state="retired", name="苏银已下架产品"),
    }
    return {"products": products, "ccb": ccb, "js": js, "guarantor": guarantor}


def ids(catalogue, *keys) -> set[int]:
    return {catalogue["products"][key].id for key in keys}


PUBLISHED = ("pledge", "factoring", "order", "credit", "guaranteed")


def browse(client, **args) -> str:
    response = client.get("/market", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_anyone_browses_the_published_products_without_logging_in(client, catalogue):
    page = browse(client)
    assert shown_ids(page) == ids(catalogue, *PUBLISHED)
    assert "建行草稿产品" not in page and "苏银已下架产品" not in page
    # the card of the pledge product: type label, institution, amounts in 万元, term, rates, grade rule
    for text in ("建行云e贷·应收账款质押", "中国建设银行苏州分行", "应收账款质押", "10.00–300.00 万元", "30–180天",
                 "3.45%–5.20%", "不限等级", "接受未评级企业"):
        assert text in page, text
    assert "B级及以上" in page and "不接受未评级企业" in page  # the order loan's grade rule
    assert 'data-testid="needs-guarantee"' in page and 'data-testid="needs-confirmation"' in page
    assert "共 5 个产品" in page


def test_cards_say_where_and_for_which_industries_a_product_is_limited(app, client):
    bank = lender()
    make_product(app, bank, name="限地区", regions=["3205", "320506"])
    make_product(app, bank, name="限制造业", industries=[str(d) for d in range(13, 44)])
    make_product(app, bank, name="限几个行业", industries=["13", "14", "50", "65"])
    page = browse(client)
    assert "限地区：江苏省苏州市、江苏省苏州市吴中区" in page
    assert "限行业：制造业" in page
    assert "限行业：农副食品加工业、食品制造业等4类行业" in page


def test_products_are_listed_best_rate_first(client, catalogue):
    page = browse(client)
    names = ["建行云e贷·应收账款质押", "建行e点通", "苏银e融·订单快贷", "创信惠企担保贷", "苏银科技信用贷"]
    positions = [page.index(name) for name in names]
    assert positions == sorted(positions)


@pytest.mark.parametrize(("args", "expected"), [
    ({"type": "factoring"}, ("factoring",)),
    ({"type": "guaranteed_loan"}, ("guaranteed",)),
    ({"amount": "2,500,000"}, ("pledge", "factoring", "guaranteed")),  # ranges covering ¥2.5m
    ({"amount": "150000"}, ("pledge", "credit")),
    ({"term": 720}, ("order",)),
    ({"term": 45}, ("pledge",)),
    ({"max_rate": "4.00"}, ("pledge", "factoring")),  # lowest rate at most 4%
    ({"max_rate": "5%"}, ("pledge", "factoring", "order", "guaranteed")),
    ({"guarantee": "required"}, ("guaranteed",)),
    ({"guarantee": "not_required"}, ("pledge", "factoring", "order", "credit")),
    ({"type": "credit_loan", "amount": "150000", "term": 100}, ("credit",)),
    ({"type": "credit_loan", "max_rate": "4"}, ()),
])
def test_each_filter_narrows_the_catalogue(client, catalogue, args, expected):
    assert shown_ids(browse(client, **args)) == ids(catalogue, *expected)


def test_the_institution_filter_offers_and_applies_the_lending_institutions(client, catalogue):
    page = browse(client)
    for key in ("ccb", "js", "guarantor"):
        org = catalogue[key].organisation
        assert f'<option value="{org.id}">{org.name}</option>' in page
    js = catalogue["js"].organisation
    assert shown_ids(browse(client, institution=js.id)) == ids(catalogue, "order", "credit")


def test_an_invalid_filter_value_is_explained_and_ignored(client, catalogue):
    page = browse(client, amount="很多", max_rate="abc", term="0")
    assert "金额“很多”不是有效的数字" in page and "利率“abc”不是有效的数字" in page
    assert "期限应在1至720天之间" in page
    assert shown_ids(page) == ids(catalogue, *PUBLISHED)


@pytest.mark.parametrize(("q", "expected"), [
    ("订单快贷", ("order",)),  # a word of the name
    ("建设银行", ("pledge", "factoring")),  # the institution
    ("创信", ("guaranteed",)),
    ("保理", ("factoring",)),  # the type's label
    ("担保贷", ("guaranteed",)),
    ("高新技术", ("credit",)),  # the description
    ("苏银 信用", ("credit",)),  # every word must match
    ("建行，保理", ("factoring",)),  # a full-width comma separates words too
    ("没有这个产品", ()),
])
def test_chinese_search_finds_by_name_institution_type_and_description(client, catalogue, q, expected):
    assert shown_ids(browse(client, q=q)) == ids(catalogue, *expected)


def test_empty_states_tell_apart_no_products_and_no_matches(client, app):
    page = browse(client)
    assert 'data-testid="empty"' in page and "暂时还没有上架的产品" in page
    make_product(app, lender())
    page = browse(client, q="没有这个产品")
    assert "没有符合条件的产品" in page and 'data-testid="filter-clear"' in page


def test_pages_through_the_catalogue_keeping_the_filters(app, client):
    bank = lender()
    for n in range(app.config["PAGE_SIZE"] + 1):
        make_product(app, bank, name=f"分页产品{n:02d}", rate_min=Decimal("3.00") + n * Decimal("0.01"))
    first = browse(client, q="分页")
    assert len(shown_ids(first)) == app.config["PAGE_SIZE"]
    assert "page=2" in first and "q=" + quote("分页") in first
    second = browse(client, q="分页", page=2)
    assert len(shown_ids(second)) == 1 and "分页产品20" in second


def test_product_page_shows_every_term_and_counts_a_view_per_load(app, client):
    bank = lender(name="苏州银行吴中支行")
    product = make_product(app, bank, name="苏行易贷·合同贷", product_type="contract_loan",
                           amount_min=Decimal("100000"), amount_max=Decimal("30000000"),
                           term_min_days=30, term_max_days=720, rate_min=Decimal("3.10"), rate_max=Decimal("3.10"),
                           min_grade="C", accepts_ungraded=False, industries=["34", "13"],
                           regions=["3205", "320506"], requires_guarantee=True,
                           requires_debtor_confirmation=True, description="按合同金额的70%核定额度")
    page = client.get(f"/market/products/{product.id}").get_data(as_text=True)
    for text in ("苏行易贷·合同贷", "苏州银行吴中支行", "合同贷", "¥100,000.00 – ¥30,000,000.00",
                 "10.00–3,000.00 万元", "30–720天", "3.10%", "C级及以上", "不接受未评级企业",
                 "需要融资担保机构提供担保", "质押的应收账款须经债务人确认", "13 农副食品加工业、34 通用设备制造业",
                 "江苏省苏州市、江苏省苏州市吴中区", "第 1 版", "按合同金额的70%核定额度"):
        assert text in page, text
    client.get(f"/market/products/{product.id}")
    with app.app_context():
        assert services.stats_totals(product.id)["views"] == 2


def test_an_anonymous_visitor_is_asked_to_log_in_and_comes_back_to_the_product(app, client):
    product = make_product(app, lender())
    page = client.get(f"/market/products/{product.id}").get_data(as_text=True)
    assert 'data-testid="login-to-apply"' in page and "登录后申请" in page
    assert f'href="/login?next=/market/products/{product.id}"' in page
    assert "用此产品申请融资" not in page


def test_an_enterprise_user_applies_with_the_product(app, client, login):
    product = make_product(app, lender())
    login(make_enterprise_user(Role.ENTERPRISE_APPLICANT))
    page = client.get(f"/market/products/{product.id}").get_data(as_text=True)
    assert f'href="/financing/new?product={product.id}"' in page and "用此产品申请融资" in page
    assert "登录后申请" not in page


def test_staff_of_other_institutions_see_the_product_but_no_apply_button(app, client, login):
    product = make_product(app, lender())
    login(lender(Role.GUARANTOR_APPROVER))
    page = client.get(f"/market/products/{product.id}").get_data(as_text=True)
    assert "仅企业用户可以申请融资" in page and "用此产品申请融资" not in page
    assert 'data-testid="edit-product"' not in page


@pytest.mark.parametrize("state", ["draft", "retired"])
def test_draft_and_retired_products_answer_404_publicly(app, client, login, state):
    owner = lender()
    product = make_product(app, owner, state=state)
    url = f"/market/products/{product.id}"
    assert client.get(url).status_code == 404
    login(make_enterprise_user())
    assert client.get(url).status_code == 404
    login(lender())  # staff of another bank
    assert client.get(url).status_code == 404
    login(owner)
    preview = client.get(url)
    assert preview.status_code == 200 and 'data-testid="preview-banner"' in preview.get_data(as_text=True)
    with app.app_context():
        assert services.stats_totals(product.id)["views"] == 0  # neither refusals nor previews count


def test_the_institutions_own_staff_do_not_inflate_the_view_count(app, client, login):
    owner = lender()
    product = make_product(app, owner)
    login(owner)
    page = client.get(f"/market/products/{product.id}").get_data(as_text=True)
    assert 'data-testid="edit-product"' in page and 'data-testid="product-stats"' in page
    with app.app_context():
        assert services.stats_totals(product.id)["views"] == 0


def test_products_of_a_deactivated_institution_disappear(app, client):
    owner = lender()
    product = make_product(app, owner)
    owner.organisation.active = False
    db.session.flush()
    assert product.id not in shown_ids(browse(client))
    assert client.get(f"/market/products/{product.id}").status_code == 404


def test_an_unknown_product_answers_404(client):
    assert client.get("/market/products/987654").status_code == 404


def test_the_navigation_links_the_supermarket_for_everyone_and_the_desk_for_lenders(client, login):
    page = client.get("/market").get_data(as_text=True)
    assert 'data-testid="nav-market"' in page and 'data-testid="nav-products"' not in page
    login(make_enterprise_user())
    page = client.get("/market").get_data(as_text=True)
    assert 'data-testid="nav-market"' in page and 'data-testid="nav-products"' not in page
    for role in (Role.BANK_APPROVER, Role.GUARANTOR_OFFICER):
        login(lender(role))
        page = client.get("/market").get_data(as_text=True)
        assert 'data-testid="nav-products"' in page and 'href="/institution/products"' in page
