"""The matcher: hard criteria at their boundaries, soft ranking, explanations, the batch path."""

import random
from dataclasses import FrozenInstanceError, fields, replace
from decimal import Decimal

import pytest

from workflows.matching import (
    DEFAULT_WEIGHTS,
    HARD_CRITERIA,
    PRODUCT_TYPES,
    SOFT_CRITERIA,
    Criterion,
    InstitutionRecord,
    Match,
    ProductTerms,
    RequestProfile,
    Weights,
    explain,
    rank,
    rate_bounds_of,
    top_institutions,
    yuan,
)
from workflows.matching_batch import BatchMatcher

D = Decimal


def product(**overrides) -> ProductTerms:
    terms = dict(
        product_id=1, version_id=11, institution_id=100, institution_kind="bank",
        product_type="receivable_pledge", amount_min=D("500000.00"), amount_max=D("5000000.00"),
        term_min_days=30, term_max_days=360, rate_min=D("3.45"), rate_max=D("6.00"),
        min_grade="C", accepts_ungraded=False, industries=frozenset(), regions=frozenset(),
        requires_guarantee=False, requires_debtor_confirmation=False,
    )
    terms.update(overrides)
    return ProductTerms(**terms)


def request(**overrides) -> RequestProfile:
    facts = dict(
        request_id=7, amount=D("1000000.00"), term_days=180, grade="B", industry_code="39",
        region_code="320506", has_guarantee=False, all_debtors_confirmed=False,
    )
    facts.update(overrides)
    return RequestProfile(**facts)


def record(institution_id=100, days=5.0, acceptance=0.6) -> InstitutionRecord:
    return InstitutionRecord(institution_id, days, acceptance)


def criterion(match: Match, code: str):
    (found,) = [c for c in match.criteria if c.code == code]
    return found


def verdict(code: str, p: ProductTerms, r: RequestProfile):
    return criterion(explain(p, r, None), code)


# --- amount --------------------------------------------------------------------------------------


def test_amount_inside_the_range_passes_and_says_so_with_the_numbers():
    c = verdict("amount", product(), request())
    assert c.hard and c.passed and c.score is None
    assert c.zh == "申请金额 ¥1,000,000.00 在产品额度 ¥500,000.00–¥5,000,000.00 之内"
    assert c.en == "Requested ¥1,000,000.00 is within ¥500,000.00–¥5,000,000.00"
    assert (c.value, c.expected) == ("¥1,000,000.00", "¥500,000.00–¥5,000,000.00")


@pytest.mark.parametrize("amount", ["500000.00", "5000000.00"])
def test_amount_equal_to_the_minimum_or_maximum_passes(amount):
    assert verdict("amount", product(), request(amount=D(amount))).passed


def test_amount_one_cent_over_the_maximum_fails_naming_the_maximum():
    c = verdict("amount", product(), request(amount=D("5000000.01")))
    assert not c.passed
    assert c.zh == "申请金额 ¥5,000,000.01 超过产品最高额度 ¥5,000,000.00"
    assert "¥5,000,000.01" in c.en and "maximum ¥5,000,000.00" in c.en


def test_amount_one_cent_under_the_minimum_fails_naming_the_minimum():
    c = verdict("amount", product(), request(amount=D("499999.99")))
    assert not c.passed
    assert c.zh == "申请金额 ¥499,999.99 低于产品最低额度 ¥500,000.00"
    assert "below the minimum ¥500,000.00" in c.en


# --- term ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [30, 360])
def test_term_equal_to_the_shortest_or_longest_passes(days):
    c = verdict("term", product(), request(term_days=days))
    assert c.passed and f"{days} 天" in c.zh and "30–360" in c.zh


def test_term_one_day_over_the_longest_fails_with_both_numbers():
    c = verdict("term", product(), request(term_days=361))
    assert not c.passed
    assert c.zh == "申请期限 361 天超过产品最长期限 360 天"
    assert "361 days" in c.en and "360 days" in c.en


def test_term_one_day_under_the_shortest_fails():
    c = verdict("term", product(), request(term_days=29))
    assert not c.passed and "29 天" in c.zh and "30 天" in c.zh


# --- grade ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "min_grade, grade, passes",
    [
        ("B", "A", True), ("B", "B", True), ("B", "C", False), ("B", "D", False),
        ("A", "A", True), ("A", "B", False), ("D", "D", True), ("C", "D", False),
        (None, "D", True), (None, "A", True),
    ],
)
def test_grade_admits_its_minimum_and_better_only(min_grade, grade, passes):
    assert verdict("grade", product(min_grade=min_grade), request(grade=grade)).passed is passes


def test_grade_failure_names_both_grades():
    c = verdict("grade", product(min_grade="B"), request(grade="C"))
    assert c.zh == "企业信用等级 C 低于产品最低等级 B"
    assert c.en == "Credit grade C is below the product's minimum grade B"


@pytest.mark.parametrize("min_grade", ["A", "D", None])
def test_ungraded_enterprise_passes_only_where_the_product_accepts_ungraded(min_grade):
    accepted = verdict("grade", product(min_grade=min_grade, accepts_ungraded=True), request(grade=None))
    refused = verdict("grade", product(min_grade=min_grade, accepts_ungraded=False), request(grade=None))
    assert accepted.passed and accepted.zh == "企业尚未评级，本产品接受未评级企业"
    assert not refused.passed and refused.zh == "企业尚未评级，本产品不接受未评级企业"
    assert "does not accept ungraded" in refused.en


def test_unknown_grade_is_refused_at_construction():
    with pytest.raises(ValueError):
        request(grade="E")
    with pytest.raises(ValueError):
        product(min_grade="AA")


# --- industry and region -------------------------------------------------------------------------


def test_product_without_industries_accepts_every_industry():
    c = verdict("industry", product(industries=frozenset()), request(industry_code="52"))
    assert c.passed and c.expected == "any" and c.value == "52"
    assert c.zh == "产品不限行业（企业行业：零售业）"
    assert c.en == "The product accepts every industry (the enterprise's: Retail Trade)"


def test_industry_listed_passes_and_unlisted_fails_naming_the_list():
    listed = product(industries=frozenset({"13", "39"}))
    ok = verdict("industry", listed, request(industry_code="39"))
    assert ok.passed and ok.zh == "企业行业“计算机、通信和其他电子设备制造业”属于产品适用行业"
    assert ok.en == ("The enterprise's industry, Manufacture of Computers, Communication and Other "
                     "Electronic Equipment, is among the product's industries")
    c = verdict("industry", listed, request(industry_code="52"))
    assert not c.passed and (c.value, c.expected) == ("52", "13, 39")  # the codes, for hover and exports
    assert c.zh == "企业行业“零售业”不在产品适用行业之内（产品适用：农副食品加工业；计算机、通信和其他电子设备制造业）"
    assert c.en == ("The enterprise's industry, Retail Trade, is not among the product's industries "
                    "(Processing of Food from Agricultural Products; Manufacture of Computers, Communication "
                    "and Other Electronic Equipment)")


def test_a_long_industry_list_names_three_and_counts_the_rest():
    c = verdict("industry", product(industries=frozenset(f"{n}" for n in range(13, 44))), request(industry_code="52"))
    assert c.zh.endswith("酒、饮料和精制茶制造业 等 31 个）")
    assert c.en.endswith("Manufacture of Liquor, Beverages and Refined Tea and 28 more)")


def test_an_unknown_industry_code_is_shown_as_it_is():
    c = verdict("industry", product(industries=frozenset({"39"})), request(industry_code="99"))
    assert not c.passed and "“99”" in c.zh and ", 99," in c.en


@pytest.mark.parametrize("code", ["3911", "C3911", "C39"])
def test_industry_is_compared_by_its_two_digit_division(code):
    assert verdict("industry", product(industries=frozenset({"39"})), request(industry_code=code)).passed


@pytest.mark.parametrize("prefix", ["32", "3205", "320506"])
def test_region_matches_a_province_city_or_county_prefix(prefix):
    c = verdict("region", product(regions=frozenset({prefix})), request(region_code="320506"))
    assert c.passed and (c.value, c.expected) == ("320506", prefix)
    assert c.zh.startswith("企业所在地 江苏省苏州市吴中区 属于产品适用地区 江苏省")
    assert c.en.startswith("The enterprise is in Wuzhong District, Suzhou, Jiangsu, within the product's region ")
    assert c.zh.endswith({"32": "江苏省", "3205": "江苏省苏州市", "320506": "江苏省苏州市吴中区"}[prefix])


@pytest.mark.parametrize("prefix", ["33", "3206", "320505"])
def test_region_outside_every_prefix_fails(prefix):
    c = verdict("region", product(regions=frozenset({prefix, "11"})), request(region_code="320506"))
    assert not c.passed
    named = {"33": "浙江省", "3206": "江苏省南通市", "320505": "江苏省苏州市虎丘区"}[prefix]
    assert c.zh == f"企业所在地 江苏省苏州市吴中区 不在产品适用地区 北京市、{named} 之内"
    assert c.en.startswith("The enterprise is in Wuzhong District, Suzhou, Jiangsu, outside the product's regions (Beijing; ")


def test_product_without_regions_accepts_every_region():
    c = verdict("region", product(regions=frozenset()), request(region_code="650102"))
    assert c.passed and c.expected == "any"
    assert c.zh == "产品不限地区（企业所在地：新疆维吾尔自治区乌鲁木齐市天山区）"
    assert c.en == "The product accepts every region (the enterprise is in Tianshan District, Urumqi, Xinjiang)"


# --- guarantee and debtor confirmation ------------------------------------------------------------


def test_product_requiring_a_guarantee_fails_a_request_without_one():
    needs = product(requires_guarantee=True)
    c = verdict("guarantee", needs, request(has_guarantee=False))
    assert not c.passed and c.zh == "产品要求担保，本申请尚无担保"
    assert verdict("guarantee", needs, request(has_guarantee=True)).passed
    assert verdict("guarantee", product(requires_guarantee=False), request(has_guarantee=False)).passed


def test_a_guarantors_product_provides_the_guarantee_it_requires():
    own = verdict("guarantee", product(institution_kind="guarantor", requires_guarantee=True),
                  request(has_guarantee=False))
    assert own.passed and own.zh == "担保由本担保机构提供"


def test_product_requiring_debtor_confirmation_fails_while_a_receivable_is_unconfirmed():
    needs = product(requires_debtor_confirmation=True)
    c = verdict("debtor_confirmation", needs, request(all_debtors_confirmed=False))
    assert not c.passed and "未获确认" in c.zh and "not every pledged receivable" in c.en
    assert verdict("debtor_confirmation", needs, request(all_debtors_confirmed=True)).passed
    assert verdict("debtor_confirmation", product(), request(all_debtors_confirmed=False)).passed


# --- the pledged receivables fit the product: debtor kind, confirmation, contract numbers ---------


def test_factoring_requires_debtor_confirmation_by_its_type_and_says_so():
    factoring = product(product_type="factoring", requires_debtor_confirmation=False)
    c = verdict("debtor_confirmation", factoring, request(all_debtors_confirmed=False))
    assert not c.passed and c.expected == "required"
    assert c.zh == "保理产品要求债务人确认，尚有质押应收账款未获确认"
    assert c.en == "Factoring products require debtor confirmation and not every pledged receivable is confirmed"
    assert verdict("debtor_confirmation", factoring, request(all_debtors_confirmed=True)).passed
    assert factoring.needs_debtor_confirmation and not product().needs_debtor_confirmation


def test_gov_procurement_loan_refuses_receivables_owed_by_companies_naming_the_kind():
    gov = product(product_type="gov_procurement_loan")
    c = verdict("debtor_kind", gov, request(debtor_kinds=frozenset({"enterprise"})))
    assert not c.passed and (c.value, c.expected) == ("enterprise", "public_body")
    assert c.zh == ("政采贷产品只接受债务人为机关、事业单位等公共机构的应收账款，"
                    "本申请有应收账款的债务人为企业（按统一社会信用代码第1-2位判断）")
    assert c.en.startswith("Government procurement loan products accept only receivables owed by "
                           "government bodies and public institutions; some pledged receivables are owed by enterprises")


def test_gov_procurement_loan_accepts_receivables_all_owed_by_public_bodies():
    c = verdict("debtor_kind", product(product_type="gov_procurement_loan"),
                request(debtor_kinds=frozenset({"public_body"})))
    assert c.passed and c.zh.endswith("全部质押应收账款的债务人均符合")


@pytest.mark.parametrize("kinds", [{"public_body", "enterprise"}, {"public_body", "unknown"}, set()])
def test_gov_procurement_loan_needs_every_debtor_to_be_a_public_body(kinds):
    c = verdict("debtor_kind", product(product_type="gov_procurement_loan"), request(debtor_kinds=frozenset(kinds)))
    assert not c.passed
    if not kinds:
        assert "尚未质押应收账款" in c.zh and "pledges none" in c.en
    else:
        assert "公共机构" not in c.zh.split("债务人为")[-1]  # names only the kinds that do not fit


def test_a_gov_procurement_loan_cannot_be_opened_to_companies_by_its_own_setting():
    gov = product(product_type="gov_procurement_loan", debtor_kinds=frozenset({"enterprise", "public_body"}))
    assert gov.accepted_debtor_kinds == {"public_body"}
    assert product(product_type="gov_procurement_loan", debtor_kinds=frozenset({"enterprise"})
                   ).accepted_debtor_kinds == {"public_body"}
    assert not verdict("debtor_kind", gov, request(debtor_kinds=frozenset({"enterprise"}))).passed


def test_a_product_may_name_the_debtor_kinds_it_accepts():
    companies_only = product(debtor_kinds=frozenset({"enterprise"}))
    assert verdict("debtor_kind", companies_only, request(debtor_kinds=frozenset({"enterprise"}))).passed
    c = verdict("debtor_kind", companies_only, request(debtor_kinds=frozenset({"enterprise", "individual_business"})))
    assert not c.passed
    assert c.zh.startswith("产品只接受债务人为企业的应收账款，本申请有应收账款的债务人为个体工商户")
    assert c.en.startswith("The product accepts only receivables owed by enterprises;")


def test_products_of_other_types_accept_every_debtor_kind_by_default():
    for product_type in ("receivable_pledge", "factoring", "order_loan", "credit_loan"):
        c = verdict("debtor_kind", product(product_type=product_type), request(debtor_kinds=frozenset({"unknown"})))
        assert c.passed and c.expected == "any" and c.zh == "产品不限债务人类型"


@pytest.mark.parametrize("product_type", ["order_loan", "contract_loan"])
def test_order_and_contract_loans_need_a_contract_number_on_every_receivable(product_type):
    loan = product(product_type=product_type)
    c = verdict("contract_number", loan, request(all_have_contract_numbers=False))
    label = PRODUCT_TYPES[product_type][0]
    assert not c.passed and c.zh == f"{label}产品要求质押应收账款载明合同编号，尚有应收账款未填写合同编号"
    assert "not every one has one" in c.en
    assert verdict("contract_number", loan, request(all_have_contract_numbers=True)).passed


def test_other_types_do_not_need_contract_numbers():
    c = verdict("contract_number", product(product_type="factoring"), request(all_have_contract_numbers=False))
    assert c.passed and c.zh == "产品不要求合同编号"


def test_unknown_debtor_kinds_are_refused_at_construction():
    with pytest.raises(ValueError):
        product(debtor_kinds=frozenset({"unknown"}))  # a product cannot accept unrecognised debtors
    with pytest.raises(ValueError):
        request(debtor_kinds=frozenset({"company"}))


def test_a_cheap_gov_procurement_loan_is_not_ranked_or_picked_for_a_companys_receivables():
    cheap_gov = product(product_id=1, institution_id=100, product_type="gov_procurement_loan", rate_min=D("2.80"))
    pledge = product(product_id=2, institution_id=200, rate_min=D("4.50"))
    companies = request(debtor_kinds=frozenset({"enterprise"}))
    ranked = rank([cheap_gov, pledge], companies, {})
    assert [(m.product_id, m.eligible) for m in ranked] == [(2, True), (1, False)]
    assert [m.product_id for m in top_institutions(ranked)] == [2]
    assert BatchMatcher([cheap_gov, pledge], {}).best_for(companies) == [(2, ranked[0].score)]
    public = request(debtor_kinds=frozenset({"public_body"}))
    assert [m.product_id for m in top_institutions(rank([cheap_gov, pledge], public, {}))] == [1, 2]


# --- the match as a whole ------------------------------------------------------------------------


def test_match_lists_every_criterion_hard_first_in_a_stable_order():
    match = explain(product(), request(), record())
    assert tuple(c.code for c in match.criteria) == HARD_CRITERIA + SOFT_CRITERIA
    hard = len(HARD_CRITERIA)
    assert [c.hard for c in match.criteria] == [True] * hard + [False] * 3
    assert all(c.passed for c in match.criteria[hard:])


def test_one_failing_hard_criterion_makes_the_product_ineligible_and_is_listed_as_a_failure():
    match = explain(product(), request(term_days=400), record())
    assert not match.eligible
    assert [c.code for c in match.failures] == ["term"]
    assert match.failures[0].text("zh") == "申请期限 400 天超过产品最长期限 360 天"


def plain(value) -> dict:
    """A dataclass's fields by name (the matcher's outputs are slotted: no vars())."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


def test_match_and_criteria_are_immutable_plain_values():
    match = explain(product(), request(), record())
    assert match == Match(**plain(match)) and hash(match) == hash(Match(**plain(match)))
    assert match.criteria[0] == Criterion(**plain(match.criteria[0]))
    with pytest.raises(FrozenInstanceError):
        match.score = 1.0
    with pytest.raises(FrozenInstanceError):
        match.criteria[0].passed = False


def test_money_is_shown_with_yuan_sign_thousands_and_fen_rounded_half_up():
    assert yuan(D("1234567.885")) == "¥1,234,567.89"
    assert yuan(D("1234567.884")) == "¥1,234,567.88"
    assert yuan(D("100000")) == "¥100,000.00"


# --- soft ranking --------------------------------------------------------------------------------


def test_cheaper_product_ranks_first_when_all_else_is_equal():
    dear = product(product_id=1, rate_min=D("6.00"))
    cheap = product(product_id=2, rate_min=D("3.00"))
    ranked = rank([dear, cheap], request(), {100: record()})
    assert [m.product_id for m in ranked] == [2, 1]
    assert ranked[0].score > ranked[1].score


def test_rate_scores_one_for_the_cheapest_and_zero_for_the_dearest_compared():
    products = [product(product_id=i, rate_min=D(rate)) for i, rate in enumerate(["3.00", "4.50", "6.00"], 1)]
    ranked = {m.product_id: m for m in rank(products, request(), {})}
    contributions = {pid: criterion(m, "rate").score for pid, m in ranked.items()}
    assert contributions == pytest.approx({1: 0.5, 2: 0.25, 3: 0.0})
    assert "3.00%–6.00%" in criterion(ranked[2], "rate").zh


@pytest.mark.parametrize("rate, contribution", [("2.50", 0.5), ("12.00", 0.0), ("7.25", 0.25), ("1.00", 0.5), ("15.00", 0.0)])
def test_single_product_rate_uses_the_fixed_scale_clamped(rate, contribution):
    c = criterion(explain(product(rate_min=D(rate), rate_max=D("15.00")), request(), None), "rate")
    assert c.score == pytest.approx(contribution)
    assert "2.50%–12.00%" in c.zh and "fixed scale" in c.en


def test_fast_institution_beats_slow_one_at_equal_rate():
    slow = product(product_id=1, institution_id=100)
    fast = product(product_id=2, institution_id=200)
    records = {100: record(100, days=20.0), 200: record(200, days=2.0)}
    ranked = rank([slow, fast], request(), records)
    assert [m.product_id for m in ranked] == [2, 1]
    assert "中位数 2 天" in criterion(ranked[0], "turnaround").zh


@pytest.mark.parametrize("days, sub", [(0.5, 1.0), (1.0, 1.0), (15.5, 0.5), (30.0, 0.0), (45.0, 0.0)])
def test_turnaround_scores_one_at_a_day_down_to_zero_at_thirty(days, sub):
    c = criterion(explain(product(), request(), record(days=days)), "turnaround")
    assert c.score == pytest.approx(sub * 0.3)


def test_acceptance_scores_the_rate_itself():
    c = criterion(explain(product(), request(), record(acceptance=0.72)), "acceptance")
    assert c.score == pytest.approx(0.72 * 0.2)
    assert "72%" in c.zh and "72%" in c.en


def test_institution_without_history_gets_the_neutral_value_and_says_so():
    match = explain(product(), request(), None)
    for code in ("turnaround", "acceptance"):
        c = criterion(match, code)
        assert "尚无历史数据，按中性值计" in c.zh
        assert "no history yet, neutral value used" in c.en
    assert criterion(match, "turnaround").score == pytest.approx(0.5 * 0.3)
    assert criterion(match, "acceptance").score == pytest.approx(0.5 * 0.2)
    partial = explain(product(), request(), InstitutionRecord(100, None, 0.9))
    assert "中性值" in criterion(partial, "turnaround").zh and "90%" in criterion(partial, "acceptance").zh


def test_soft_contributions_add_up_to_the_match_score():
    match = explain(product(rate_min=D("4.00")), request(), record(days=3.0, acceptance=0.8))
    assert match.score == pytest.approx(sum(c.score for c in match.criteria if not c.hard))
    assert 0.0 <= match.score <= 1.0


def test_weights_decide_what_counts():
    cheap_slow = product(product_id=1, institution_id=100, rate_min=D("3.00"))
    dear_fast = product(product_id=2, institution_id=200, rate_min=D("6.00"))
    records = {100: record(100, days=25.0), 200: record(200, days=1.0)}
    by_rate = rank([cheap_slow, dear_fast], request(), records, Weights(rate=1, turnaround=0, acceptance=0))
    by_speed = rank([cheap_slow, dear_fast], request(), records, Weights(rate=0, turnaround=1, acceptance=0))
    assert [m.product_id for m in by_rate] == [1, 2]
    assert [m.product_id for m in by_speed] == [2, 1]


def test_weights_must_be_non_negative_and_not_all_zero():
    with pytest.raises(ValueError):
        Weights(rate=-0.1)
    with pytest.raises(ValueError):
        Weights(rate=0, turnaround=0, acceptance=0)


def test_rank_puts_eligible_first_then_ineligible_by_fewest_failures_with_ties_by_product_id():
    eligible_dear = product(product_id=5, rate_min=D("9.00"))
    one_failure = product(product_id=1, rate_min=D("3.00"), term_max_days=90)
    two_failures = product(product_id=2, rate_min=D("3.00"), term_max_days=90, min_grade="A")
    tie_a = product(product_id=4, rate_min=D("3.00"), term_max_days=90)
    ranked = rank([two_failures, tie_a, one_failure, eligible_dear], request(), {})
    assert [m.product_id for m in ranked] == [5, 1, 4, 2]
    assert [m.eligible for m in ranked] == [True, False, False, False]


def test_rank_equals_explaining_each_product_alone_with_the_same_rate_bounds():
    rng = random.Random(17)
    products = random_catalogue(rng, 60)
    records = random_records(rng)
    bounds = rate_bounds_of(products)
    for r in random_requests(rng, 25, products):
        ranked = rank(products, r, records)
        alone = {(p.product_id, p.version_id): explain(p, r, records.get(p.institution_id), DEFAULT_WEIGHTS, bounds)
                 for p in products}
        assert len(ranked) == len(products)
        for match in ranked:
            assert match == alone[(match.product_id, match.version_id)]


# --- top institutions ----------------------------------------------------------------------------


def test_top_institutions_keeps_the_best_product_of_each_institution_and_at_most_three():
    products = [
        product(product_id=1, institution_id=100, rate_min=D("3.00")),
        product(product_id=2, institution_id=100, rate_min=D("3.10")),
        product(product_id=3, institution_id=200, rate_min=D("4.00")),
        product(product_id=4, institution_id=300, rate_min=D("5.00")),
        product(product_id=5, institution_id=400, rate_min=D("6.00")),
        product(product_id=6, institution_id=500, rate_min=D("2.00"), term_max_days=90),  # ineligible
    ]
    best = top_institutions(rank(products, request(), {}))
    assert [m.product_id for m in best] == [1, 3, 4]
    assert [m.institution_id for m in best] == [100, 200, 300]
    assert [m.product_id for m in top_institutions(rank(products, request(), {}), limit=10)] == [1, 3, 4, 5]


def test_top_institutions_is_empty_when_nothing_is_eligible():
    assert top_institutions(rank([product(term_max_days=90)], request(), {})) == []


# --- the batch path ------------------------------------------------------------------------------

INDUSTRIES = ["13", "39", "52", "65"]
PREFIXES = ["32", "3205", "3206", "320506", "320505", "33"]
REGIONS = ["320506", "320505", "320611", "320102", "330106"]
TYPES = ["receivable_pledge", "factoring", "order_loan", "contract_loan", "gov_procurement_loan",
         "credit_loan", "guaranteed_loan"]
KINDS = ["public_body", "enterprise", "individual_business", "social_organisation"]


def random_catalogue(rng: random.Random, count: int) -> list[ProductTerms]:
    products = []
    for pid in range(1, count + 1):
        low = D(rng.choice([100_000, 500_000, 1_000_000])) + D(rng.choice([0, 0, 1])) / 100
        products.append(product(
            product_id=rng.randint(1, count * 2), version_id=pid, institution_id=rng.randint(1, 12),
            institution_kind=rng.choice(["bank", "guarantor"]), product_type=rng.choice(TYPES),
            amount_min=low, amount_max=low * rng.choice([2, 5, 20]),
            term_min_days=rng.choice([30, 60, 90]), term_max_days=rng.choice([180, 360, 720]),
            rate_min=D(rng.choice(["3.45", "3.45", "4.00", "5.20", "7.80"])), rate_max=D("12.00"),
            min_grade=rng.choice([None, "A", "B", "C", "D"]), accepts_ungraded=rng.random() < 0.5,
            industries=frozenset(rng.sample(INDUSTRIES, rng.randint(0, 2))),
            regions=frozenset(rng.sample(PREFIXES, rng.randint(0, 2))),
            requires_guarantee=rng.random() < 0.2, requires_debtor_confirmation=rng.random() < 0.3,
            debtor_kinds=frozenset(rng.sample(KINDS, rng.choice([0, 0, 1, 2]))),
        ))
    return products


def random_records(rng: random.Random) -> dict[int, InstitutionRecord]:
    return {
        i: InstitutionRecord(i, rng.choice([None, 1.0, 4.5, 12.0, 40.0]), rng.choice([None, 0.3, 0.6, 0.9]))
        for i in range(1, 13) if rng.random() < 0.75
    }


def random_requests(rng: random.Random, count: int, products: list[ProductTerms]) -> list[RequestProfile]:
    requests = []
    for rid in range(1, count + 1):
        edge = rng.choice(products)
        amount = rng.choice([
            edge.amount_min, edge.amount_max, edge.amount_min - D("0.01"), edge.amount_max + D("0.01"),
            edge.amount_max + D("0.001"), edge.amount_min - D("0.001"), D(rng.randint(50_000, 30_000_000)),
        ])
        requests.append(request(
            request_id=rid, amount=amount,
            term_days=rng.choice([edge.term_min_days, edge.term_max_days, edge.term_max_days + 1, 29, 200]),
            grade=rng.choice([None, "A", "B", "C", "D"]),
            industry_code=rng.choice(INDUSTRIES + ["3911", "C52", "99"]), region_code=rng.choice(REGIONS),
            has_guarantee=rng.random() < 0.5, all_debtors_confirmed=rng.random() < 0.5,
            debtor_kinds=frozenset(rng.sample(KINDS + ["unknown"], rng.choice([0, 1, 1, 1, 2]))),
            all_have_contract_numbers=rng.random() < 0.6,
        ))
    return requests


def eligible_by_rank(products, r, records, limit, weights=DEFAULT_WEIGHTS):
    return [(m.product_id, m.score) for m in rank(products, r, records, weights) if m.eligible][:limit]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batch_matcher_agrees_with_rank_on_eligibility_order_and_score(seed):
    rng = random.Random(seed)
    products = random_catalogue(rng, 120)
    records = random_records(rng)
    matcher = BatchMatcher(products, records)
    requests = random_requests(rng, 100, products)
    served = 0
    for r in requests:
        expected = eligible_by_rank(products, r, records, len(products))
        assert matcher.best_for(r, limit=len(products)) == expected
        assert matcher.best_for(r) == expected[:3]
        served += bool(expected)
    assert served > 20  # the random cases do exercise eligible products


def test_batch_match_many_equals_best_for_each_request():
    rng = random.Random(9)
    products = random_catalogue(rng, 80)
    records = random_records(rng)
    requests = random_requests(rng, 150, products)
    weights = Weights(rate=0.2, turnaround=0.2, acceptance=0.6)
    matcher = BatchMatcher(products, records, weights)
    answers = matcher.match_many(iter(requests), limit=2)
    assert set(answers) == {r.request_id for r in requests}
    for r in requests:
        assert answers[r.request_id] == eligible_by_rank(products, r, records, 2, weights)
        assert answers[r.request_id] == matcher.best_for(r, limit=2)


def test_batch_matcher_respects_sub_cent_amounts_at_the_boundary():
    matcher = BatchMatcher([product()], {})
    assert matcher.best_for(request(amount=D("5000000.00")))
    assert matcher.best_for(request(amount=D("5000000.001"))) == []
    assert matcher.best_for(request(amount=D("499999.999"))) == []


def test_batch_matcher_handles_an_empty_catalogue_and_a_zero_limit():
    assert BatchMatcher([], {}).best_for(request()) == []
    assert BatchMatcher([product()], {}).match_many([request()], limit=0) == {7: []}


def test_batch_matcher_reuses_cached_rows_across_chunks(monkeypatch):
    import workflows.matching_batch as batch

    monkeypatch.setattr(batch, "CELLS_PER_CHUNK", 50)  # ten requests per chunk over 5 products
    products = [replace(product(), product_id=i, rate_min=D(f"{3 + i}.00")) for i in range(1, 6)]
    requests = [request(request_id=i, region_code=REGIONS[i % len(REGIONS)]) for i in range(1, 36)]
    answers = batch.BatchMatcher(products, {}).match_many(requests)
    assert all(answers[r.request_id] == eligible_by_rank(products, r, {}, 3) for r in requests)
