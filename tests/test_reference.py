"""GB/T 4754-2017 industry classification reference data."""

import ast
from pathlib import Path

from marketplace.reference import industries
from marketplace.reference.industries import (
    INDUSTRY_DIVISIONS,
    INDUSTRY_SECTIONS,
    industry_choices,
    industry_name,
)

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


def test_industries_module_imports_nothing_from_flask():
    tree = ast.parse(Path(industries.__file__).read_text(encoding="utf-8"))
    modules = {
        name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
    }
    assert not any(m.split(".")[0] in {"flask", "flask_sqlalchemy", "sqlalchemy"} for m in modules)
