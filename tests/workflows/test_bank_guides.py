"""The statement step's bank table (issue 19, item 3): the right bank for a name, else the generic."""

import json
from pathlib import Path

import pytest

from workflows.verification.bank_guides import GENERIC, GUIDES, guide_for, guide_for_bank_name

MANIFEST = Path(__file__).resolve().parent.parent / "fixtures" / "statements" / "banks" / "manifest.json"


@pytest.mark.parametrize("name, code", [
    ("中国工商银行苏州分行", "icbc"), ("工行", "icbc"), ("中国农业银行", "abc"), ("江苏苏州农村商业银行", "rcb"),
    ("招商银行股份有限公司", "cmb"), ("中国银行", "boc"), ("上海浦东发展银行", "spdb"), ("cmb", "cmb"),
])
def test_a_bank_name_finds_its_guide(name, code):
    assert guide_for_bank_name(name).code == code


@pytest.mark.parametrize("name", ["", None, "示例银行苏州分行", "Deutsche Bank"])
def test_an_unknown_bank_gets_the_generic_description(name):
    assert guide_for_bank_name(name) is GENERIC
    assert guide_for("no-such-bank") is GENERIC and guide_for(None) is GENERIC


def test_every_guide_names_a_menu_and_a_layout_in_both_languages():
    for guide in (*GUIDES, GENERIC):
        assert "→" in guide.menu[0] and "→" in guide.menu[1] and guide.layouts
    assert len({guide.code for guide in GUIDES}) == len(GUIDES)


def test_every_bank_of_the_tested_corpus_has_its_guide():
    """The layouts the guides promise are those the importer is tested on."""
    banks = {entry["bank"] for entry in json.loads(MANIFEST.read_text(encoding="utf-8")) if entry["bank"]}
    assert {bank: guide_for_bank_name(bank).code != "other" for bank in banks} == dict.fromkeys(banks, True)
