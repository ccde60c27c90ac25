"""The kind of a debtor from its credit code: GB 32100 registration authority and category."""

import pytest

from workflows.identifiers import (
    DEBTOR_KINDS,
    USCC_AUTHORITIES,
    USCC_CATEGORIES,
    debtor_kind,
    is_public_body,
    uscc_check_char,
)


def code(first_two: str, region: str = "320506", serial: str = "MA1XYW12") -> str:
    """A valid credit code whose characters 1-2 are `first_two`."""
    body = f"{first_two}{region}{serial}0"[:17]
    return body + uscc_check_char(body)


@pytest.mark.parametrize("category, kind, zh", [
    ("11", "public_body", "机关"),
    ("12", "public_body", "事业单位"),
    ("13", "public_body", "中央编办直接管理机构编制的群众团体"),
    ("19", "public_body", "其他（机构编制）"),
    ("A1", "public_body", "军队事业单位"),
    ("51", "social_organisation", "社会团体"),
    ("52", "social_organisation", "民办非企业单位"),
    ("53", "social_organisation", "基金会"),
    ("91", "enterprise", "企业"),
    ("92", "individual_business", "个体工商户"),
    ("93", "cooperative", "农民专业合作社"),
    ("31", "other", "律师执业机构"),
    ("71", "other", "宗教活动场所"),
    ("81", "other", "基层工会"),
    ("N2", "other", "村级集体经济组织"),
    ("Y1", "other", "其他"),
])
def test_the_first_two_characters_say_what_kind_of_organisation_holds_the_code(category, kind, zh):
    found = debtor_kind(code(category))
    assert (found.code, found.category, found.zh) == (kind, category, zh)
    assert found.en and found.label == DEBTOR_KINDS[kind]
    assert found.is_public_body is (kind == "public_body")
    assert is_public_body(code(category)) is (kind == "public_body")


def test_only_bodies_on_the_states_establishment_are_public_bodies():
    public = {category for category, (_zh, _en, kind) in USCC_CATEGORIES.items() if kind == "public_body"}
    assert public == {"11", "12", "13", "19", "A1", "A9"}


def test_every_category_belongs_to_a_known_authority_and_kind():
    for category, (zh, en, kind) in USCC_CATEGORIES.items():
        assert category[0] in USCC_AUTHORITIES and zh and en
        assert kind in DEBTOR_KINDS


def test_a_category_the_standard_does_not_list_is_unknown_and_not_a_public_body():
    found = debtor_kind(code("94"))  # a valid check character, but 工商 registers only 91, 92, 93
    assert (found.code, found.category) == ("unknown", "94")
    assert "工商" in found.zh and not found.is_public_body


@pytest.mark.parametrize("text", ["", "12320506MA1XYW1200", "1232050", "not a code at all!"])
def test_an_invalid_code_is_unknown_whatever_its_first_characters_say(text):
    found = debtor_kind(text)
    assert (found.code, found.category) == ("unknown", "") and not found.is_public_body


def test_full_width_and_spaced_codes_are_read_as_their_normal_form():
    public = code("12")
    spaced = " ".join([public[:6], public[6:12], public[12:]])
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in public)
    assert debtor_kind(spaced) == debtor_kind(full_width) == debtor_kind(public.lower()) == debtor_kind(public)
