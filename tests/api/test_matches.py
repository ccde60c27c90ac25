"""GET /api/v1/requests/<id>/matches: the owner's ranked, explained matches; nobody else's."""

from __future__ import annotations

from marketplace.accounts.roles import Role
from tests.factories import UserFactory

EXPECTED_CRITERION_KEYS = {"code", "hard", "passed", "value", "expected", "reason_zh", "reason_en", "score"}


def url(owned_request) -> str:
    return f"/api/v1/requests/{owned_request['request'].id}/matches"


def test_the_owner_gets_every_published_product_ranked_and_explained(client, catalogue, owned_request, bearer):
    response = client.get(url(owned_request), headers=bearer(owned_request["owner"]))
    assert response.status_code == 200
    body = response.json
    assert body["request_id"] == owned_request["request"].id
    items = body["items"]
    assert {m["product_id"] for m in items} == {p.id for p in catalogue["published"]}
    eligible = [m for m in items if m["eligible"]]
    assert [m["eligible"] for m in items] == sorted((m["eligible"] for m in items), reverse=True)
    assert [m["score"] for m in eligible] == sorted((m["score"] for m in eligible), reverse=True)
    by_product = {m["product_id"]: m for m in items}
    gov_procurement = by_product[catalogue["published"][3].id]  # 政采贷: a guarantee, a public-body debtor
    assert gov_procurement["eligible"] is False
    failed = [c for c in gov_procurement["criteria"] if not c["passed"]]
    assert [c["code"] for c in failed] == ["guarantee", "debtor_kind"]  # the debtor is a company (91...)
    assert all(c["hard"] is True and c["reason_zh"] and c["reason_en"] for c in failed)
    assert (failed[1]["value"], failed[1]["expected"]) == ("enterprise", "public_body")
    assert "机关、事业单位等公共机构" in failed[1]["reason_zh"] and "public institutions" in failed[1]["reason_en"]
    for match in items:
        assert isinstance(match["score"], float | int) and 0 <= match["score"] <= 1
        assert match["version_id"] and match["institution_id"]
        for criterion in match["criteria"]:
            assert set(criterion) == EXPECTED_CRITERION_KEYS
            assert isinstance(criterion["value"], str) and isinstance(criterion["expected"], str)


def test_the_owners_browser_session_works_too(client, login, catalogue, owned_request):
    login(owned_request["owner"])
    assert client.get(url(owned_request)).status_code == 200


def test_another_enterprises_request_is_a_404(client, catalogue, owned_request, bearer):
    response = client.get(url(owned_request), headers=bearer(owned_request["stranger"]))
    assert response.status_code == 404
    assert response.json["code"] == 404 and response.json["message"]


def test_a_missing_request_is_a_404(client, catalogue, owned_request, bearer):
    response = client.get("/api/v1/requests/987654/matches", headers=bearer(owned_request["owner"]))
    assert response.status_code == 404 and response.json["code"] == 404


def test_anonymous_is_a_json_401_not_a_redirect(client, catalogue, owned_request):
    response = client.get(url(owned_request))
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.json["code"] == 401 and response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bank_user_is_a_json_403(client, catalogue, owned_request, bearer):
    for role in (Role.BANK_OFFICER, Role.GUARANTOR_APPROVER, Role.PLATFORM_ADMIN):
        response = client.get(url(owned_request), headers=bearer(UserFactory(role=role)))
        assert response.status_code == 403, role
        assert response.json["code"] == 403 and response.json["message"]
