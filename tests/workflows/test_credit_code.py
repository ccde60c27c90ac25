"""What registration reads out of a credit code instead of asking (issue 19, item 4)."""

import pytest

from workflows.credit_code import decode_uscc, division_level
from workflows.identifiers import uscc_check_char


def code(first_two: str, division: str = "320506", serial: str = "MA1XYW120") -> str:
    body = f"{first_two}{division}{serial}"[:17]
    return body + uscc_check_char(body)


@pytest.mark.parametrize("first_two, kind, zh", [
    ("91", "enterprise", "企业"),
    ("92", "individual_business", "个体工商户"),
    ("93", "cooperative", "农民专业合作社"),
    ("12", "public_body", "事业单位"),
    ("N2", "other", "村级集体经济组织"),
])
def test_the_kind_of_entity_comes_from_characters_one_and_two(first_two, kind, zh):
    facts = decode_uscc(code(first_two))
    assert (facts.kind.code, facts.kind.category, facts.kind.zh) == (kind, first_two, zh)


def test_the_registration_authority_comes_from_character_one():
    assert (decode_uscc(code("91")).authority, decode_uscc(code("91")).authority_zh) == ("9", "工商")
    assert decode_uscc(code("N1")).authority_en == "agriculture and rural affairs"


@pytest.mark.parametrize("division, level, county", [
    ("320506", "county", True),
    ("320500", "city", False),
    ("320000", "province", False),
    ("100000", "national", False),
])
def test_the_region_is_the_registration_authoritys_division(division, level, county):
    facts = decode_uscc(code("91", division))
    assert (facts.division_code, facts.division_level, facts.is_county) == (division, level, county)
    assert division_level(division) == level


def test_the_code_is_normalised_first():
    value = code("91")
    assert decode_uscc(" " + value.lower() + " ").uscc == value


@pytest.mark.parametrize("first_two", ["A1", "N3", "Y1"])
def test_codes_python_stdnum_refuses_are_decoded(first_two):
    """python-stdnum wants 8 leading digits; GB 32100 allows A, N and Y first."""
    assert decode_uscc(code(first_two)).authority == first_two[0]


@pytest.mark.parametrize("bad, message", [
    ("91320506MA1X", "应为18位"),
    ("B" + code("91")[1:], "登记管理部门代码"),
    (code("91")[:17] + ("0" if code("91")[17] != "0" else "1"), "校验位错误"),
])
def test_an_invalid_code_raises_the_chinese_sentence(bad, message):
    with pytest.raises(ValueError, match=message):
        decode_uscc(bad)
