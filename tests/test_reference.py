"""GB/T 4754-2017 industry classification and GB/T 2260 region reference data, in both languages."""

import ast
from pathlib import Path

import pytest

from marketplace.reference.industries import (
    INDUSTRY_DIVISIONS,
    INDUSTRY_SECTIONS,
    industry_choices,
    industry_name,
)
from marketplace.reference.regions import region_name
from workflows import industries, regions
from workflows.industries import INDUSTRY_DIVISIONS_EN, INDUSTRY_SECTIONS_EN, find_industry
from workflows.regions import find_regions, region_choices
from workflows.regions import region_name as region_name_in

# (section, first division, last division) as GB/T 4754-2017 assigns them
SECTION_RANGES = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50),
    "F": (51, 52), "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69),
    "K": (70, 70), "L": (71, 72), "M": (73, 75), "N": (76, 79), "O": (80, 82),
    "P": (83, 83), "Q": (84, 85), "R": (86, 90), "S": (91, 96), "T": (97, 97),
}  # fmt: skip


def test_there_are_20_sections_a_to_t():
    assert list(INDUSTRY_SECTIONS) == list("ABCDEFGHIJKLMNOPQRST")
    assert INDUSTRY_SECTIONS["C"] == "制造业"
    assert INDUSTRY_SECTIONS["I"] == "信息传输、软件和信息技术服务业"


def test_there_are_97_divisions_numbered_01_to_97_each_in_its_section():
    assert list(INDUSTRY_DIVISIONS) == [f"{n:02d}" for n in range(1, 98)]
    for letter, (first, last) in SECTION_RANGES.items():
        for number in range(first, last + 1):
            assert INDUSTRY_DIVISIONS[f"{number:02d}"][0] == letter


def test_division_names_are_the_official_ones():
    assert INDUSTRY_DIVISIONS["13"] == ("C", "农副食品加工业")
    assert INDUSTRY_DIVISIONS["39"] == ("C", "计算机、通信和其他电子设备制造业")
    assert INDUSTRY_DIVISIONS["65"] == ("I", "软件和信息技术服务业")
    assert INDUSTRY_DIVISIONS["66"] == ("J", "货币金融服务")
    assert INDUSTRY_DIVISIONS["96"] == ("S", "基层群众自治组织及其他组织")
    assert len({name for _, name in INDUSTRY_DIVISIONS.values()}) == 97


def test_industry_name_knows_divisions_sections_and_longer_codes():
    assert industry_name("39") == "计算机、通信和其他电子设备制造业"
    assert industry_name(" c ") == "制造业"
    assert industry_name("3911") == "计算机、通信和其他电子设备制造业"
    assert industry_name("C39") is None
    assert industry_name("98") is None
    assert industry_name("") is None
    assert industry_name(None) is None


def test_industry_choices_group_all_divisions_by_section_for_optgroups():
    choices = industry_choices()
    assert [label for label, _ in choices][:3] == ["A 农、林、牧、渔业", "B 采矿业", "C 制造业"]
    manufacturing = dict(choices)["C 制造业"]
    assert manufacturing[0] == ("13", "13 农副食品加工业")
    assert manufacturing[-1] == ("43", "43 金属制品、机械和设备修理业")
    assert sum(len(options) for _, options in choices) == 97


@pytest.mark.parametrize("module", [industries, regions])
def test_reference_data_modules_import_nothing_from_flask(module):
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    modules = {
        name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
    }
    assert not any(m.split(".")[0] in {"flask", "flask_sqlalchemy", "sqlalchemy"} for m in modules)


def test_every_section_and_division_has_an_english_name():
    assert list(INDUSTRY_SECTIONS_EN) == list(INDUSTRY_SECTIONS)
    assert list(INDUSTRY_DIVISIONS_EN) == list(INDUSTRY_DIVISIONS)
    assert len(set(INDUSTRY_DIVISIONS_EN.values())) == 97
    assert not any(ord(ch) > 127 for name in INDUSTRY_DIVISIONS_EN.values() for ch in name)


def test_industry_name_in_english_and_with_full_width_digits():
    assert industry_name("34", "en") == "Manufacture of General Purpose Machinery"
    assert industry_name("C", "en") == "Manufacturing"
    assert industry_name("３４") == "通用设备制造业"
    assert industry_name("98", "en") is None
    assert dict(industry_choices("en"))["C Manufacturing"][0] == ("13", "13 Processing of Food from Agricultural Products")


def test_industry_name_defaults_to_the_page_language(app):
    from flask_babel import force_locale

    with app.test_request_context("/"):
        assert industry_name("34") == "通用设备制造业"
        with force_locale("en"):
            assert industry_name("34") == "Manufacture of General Purpose Machinery"
            assert industry_name("34", "zh") == "通用设备制造业"


@pytest.mark.parametrize("typed, code", [
    ("34", "34"), ("３４", "34"), (" 34 ", "34"), ("通用设备制造业", "34"),
    ("manufacture of general purpose machinery", "34"), ("34 通用设备制造业", "34"),
    ("34 Manufacture of General Purpose Machinery", "34"),
    ("98", None), ("C", None), ("机器", None), ("", None), (None, None),
])  # fmt: skip
def test_find_industry_reads_a_code_or_an_exact_name_in_either_language(typed, code):
    assert find_industry(typed) == code


def test_region_names_in_both_languages_at_every_level():
    assert region_name_in("320506") == "江苏省苏州市吴中区"
    assert region_name_in("320506", "en") == "Wuzhong District, Suzhou, Jiangsu"
    assert region_name_in("3205", "en") == "Suzhou, Jiangsu"
    assert region_name_in("32", "en") == "Jiangsu"
    assert region_name_in("110105", "en") == "Chaoyang District, Beijing"  # pypinyin reads 朝 as zhao
    assert region_name_in("6101", "en") == "Xi'an, Shaanxi"  # an apostrophe before a vowel syllable
    assert region_name_in("2224", "en") == "Yanbian Korean Autonomous Prefecture, Jilin"
    assert region_name_in("5227", "en") == "Qiannan Bouyei Miao Autonomous Prefecture, Guizhou"
    assert region_name_in("81", "en") == "Hong Kong"
    assert region_name_in("999999") is None
    assert region_name_in(None, "en") is None


def test_every_region_has_an_ascii_english_name():
    for code, _label in region_choices():
        name = region_name_in(code, "en")
        assert name and all(ord(ch) < 128 or ch == "ü" for ch in name), (code, name)


def test_region_name_for_pages_defaults_to_the_page_language_and_keeps_unknown_codes(app):
    from flask_babel import force_locale

    with app.test_request_context("/"):
        assert region_name("320506") == "江苏省苏州市吴中区"
        with force_locale("en"):
            assert region_name("320506") == "Wuzhong District, Suzhou, Jiangsu"
        assert region_name("999999") == "999999"


@pytest.mark.parametrize("typed, codes", [
    ("320506", ["320506"]), ("３２０５０６", ["320506"]), ("3205", ["3205"]),
    ("江苏省苏州市吴中区", ["320506"]), ("苏州市吴中区", ["320506"]), ("吴中区", ["320506"]),
    ("Wuzhong District, Suzhou, Jiangsu", ["320506"]), ("wuzhong district", ["320506"]),
    ("江苏省", ["32"]), ("Jiangsu", ["32"]),
    ("Suzhou", ["3205", "3413"]),  # 苏州 and 宿州 share a romanisation
    ("朝阳区", ["110105", "220104"]),
    ("320599", []), ("苏州吴中", []), ("", []),
])  # fmt: skip
def test_find_regions_reads_codes_and_names_in_either_language(typed, codes):
    assert find_regions(typed) == codes


def test_pickers_read_what_was_typed_and_say_why_they_refuse(app):
    from marketplace.reference.picker import pick_industry, pick_region

    with app.test_request_context("/"):
        assert pick_industry("３４").code == "34" and pick_industry("").code is None
        assert pick_industry("机器").code is None and "未知的行业：机器" in pick_industry("机器").error
        assert pick_region("吴中区", counties_only=True).code == "320506"
        assert pick_region("朝阳区", counties_only=True).error.startswith("“朝阳区”可指多个地区：北京市朝阳区 (110105)")
        assert "江苏省 是省或市" in pick_region("江苏省", counties_only=True).error
        assert pick_region("Jiangsu").code == "32"
        assert "未知的地区：" + "9" * 40 + "…" in pick_region("9" * 60).error  # what was typed, cut short
