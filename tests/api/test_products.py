"""GET /api/v1/products and /api/v1/products/<id>: public, published only, money as strings."""

from __future__ import annotations

import re

from tests.sql_log import statements_run

MONEY = re.compile(r"^-?\d+\.\d{2}$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def names(response) -> list[str]:
    return [item["name"] for item in response.json["items"]]


def test_anyone_lists_the_published_products_best_rate_first(client, catalogue):
    response = client.get("/api/v1/products")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert names(response) == ["应收账款质押贷", "政采贷", "保理通", "担保增信贷", "订单快贷", "信用e贷"]
    assert response.json["pagination"] == {"page": 1, "per_page": 20, "total": 6, "pages": 1}


def test_drafts_and_retired_products_are_not_listed(client, catalogue):
    listed = {item["id"] for item in client.get("/api/v1/products?per_page=100").json["items"]}
    assert catalogue["draft"].id not in listed and catalogue["retired"].id not in listed


def test_a_product_carries_its_terms_with_amounts_and_rates_as_two_decimal_strings(client, catalogue):
    product = catalogue["published"][4]  # 信用e贷, up to ¥1,000,000.50
    item = client.get(f"/api/v1/products/{product.id}").json
    assert item["amount_min"] == "100000.00" and item["amount_max"] == "1000000.50"
    assert item["rate_min"] == "6.50" and item["rate_max"] == "8.50"
    for key in ("amount_min", "amount_max", "rate_min", "rate_max"):
        assert isinstance(item[key], str) and MONEY.match(item[key])
    assert item["id"] == product.id and item["version"] == 1
    assert item["version_id"] == product.current_version_id
    assert item["institution"] == {"id": catalogue["other_bank"].organisation_id, "name": "江南农商银行", "kind": "bank"}
    assert item["type"] == "credit_loan" and item["type_label"] == "信用贷"
    assert item["term_min_days"] == 30 and item["term_max_days"] == 360
    assert item["min_grade"] is None and item["accepts_ungraded"] is True
    assert item["requires_guarantee"] is False and item["requires_debtor_confirmation"] is False
    assert item["debtor_kinds"] == [] and item["requires_contract_numbers"] is False
    assert ISO_UTC.match(item["published_at"])


def test_what_a_product_asks_of_the_pledged_receivables_includes_what_its_type_implies(client, catalogue):
    factoring, order_loan, gov = (client.get(f"/api/v1/products/{catalogue['published'][i].id}").json
                                  for i in (1, 2, 3))
    assert factoring["requires_debtor_confirmation"] is True  # factoring buys the debtor's confirmation
    assert factoring["debtor_kinds"] == [] and factoring["requires_contract_numbers"] is False
    assert order_loan["requires_contract_numbers"] is True and order_loan["requires_debtor_confirmation"] is False
    assert gov["debtor_kinds"] == ["public_body"] and gov["requires_contract_numbers"] is False


def test_criteria_lists_and_grades_come_through(client, catalogue):
    item = client.get(f"/api/v1/products/{catalogue['published'][5].id}").json
    assert item["min_grade"] == "B" and item["accepts_ungraded"] is False
    assert item["industries"] == ["39"] and item["regions"] == ["3205"]
    assert item["institution"]["kind"] == "guarantor"


def test_filters_are_the_web_catalogues(client, catalogue):
    assert names(client.get("/api/v1/products?type=factoring")) == ["保理通"]
    assert names(client.get(f"/api/v1/products?institution_id={catalogue['other_bank'].organisation_id}")) == [
        "政采贷", "信用e贷"]
    assert "保理通" not in names(client.get("/api/v1/products?amount=200000"))
    assert names(client.get("/api/v1/products?amount=10000000")) == ["保理通"]
    assert "订单快贷" not in names(client.get("/api/v1/products?term_days=200"))
    assert names(client.get("/api/v1/products?max_rate=3.8")) == ["应收账款质押贷", "政采贷"]
    assert names(client.get("/api/v1/products?guarantee=required")) == ["政采贷"]
    assert "政采贷" not in names(client.get("/api/v1/products?guarantee=not_required"))
    assert names(client.get("/api/v1/products", query_string={"q": "快贷"})) == ["订单快贷"]
    assert names(client.get("/api/v1/products", query_string={"q": "江南农商"})) == ["政采贷", "信用e贷"]


def test_pagination_pages_through_every_product_once(client, catalogue):
    first = client.get("/api/v1/products?per_page=4&page=1").json
    second = client.get("/api/v1/products?per_page=4&page=2").json
    beyond = client.get("/api/v1/products?per_page=4&page=3").json
    assert first["pagination"] == {"page": 1, "per_page": 4, "total": 6, "pages": 2}
    assert len(first["items"]) == 4 and len(second["items"]) == 2 and beyond["items"] == []
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert sorted(ids) == sorted(p.id for p in catalogue["published"])


def test_per_page_above_100_is_a_422_naming_the_field(client, catalogue):
    response = client.get("/api/v1/products?per_page=101")
    assert response.status_code == 422
    assert response.json["code"] == 422 and response.json["message"]
    assert "per_page" in response.json["errors"]["query"]


def test_bad_filters_are_422_not_500(client, catalogue):
    for query in ("amount=1e5", "amount=-5", "max_rate=abc", "type=mortgage", "guarantee=maybe", "page=0",
                  "term_days=x"):
        response = client.get(f"/api/v1/products?{query}")
        assert response.status_code == 422, query
        assert set(response.json) == {"code", "message", "errors"}


def test_a_nul_character_in_the_search_is_harmless(client, catalogue):
    response = client.get("/api/v1/products?q=%00%E5%BF%AB%E8%B4%B7")
    assert response.status_code == 200 and names(response) == ["订单快贷"]


def test_the_list_loads_products_in_a_constant_number_of_queries(app, client, catalogue):

    with statements_run() as statements:
        client.get("/api/v1/products?per_page=100")
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 3, selects


def test_a_draft_a_retired_or_a_missing_product_is_a_json_404(client, catalogue):
    for product_id in (catalogue["draft"].id, catalogue["retired"].id, 987654):
        response = client.get(f"/api/v1/products/{product_id}")
        assert response.status_code == 404
        assert response.json["code"] == 404 and response.json["message"]


def test_an_unknown_api_path_and_a_wrong_method_answer_json(client, catalogue):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["code"] == 404
    wrong_method = client.post("/api/v1/products")
    assert wrong_method.status_code == 405 and wrong_method.json["code"] == 405
    assert isinstance(wrong_method.json["message"], str)


def test_type_labels_follow_the_callers_language(client, catalogue):
    with client.session_transaction() as session:
        session["locale"] = "en"
    item = client.get(f"/api/v1/products/{catalogue['published'][1].id}").json
    assert item["type_label"] == "Factoring"
