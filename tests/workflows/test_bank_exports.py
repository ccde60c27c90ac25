"""Statements as banks export them (issue 11, item 2): every layout of the corpus is read whole.

The files under tests/fixtures/statements/banks/ are written by make_bank_fixtures.py there, from
public descriptions of what the large banks' online banking exports; banks/manifest.json holds,
for each, the figures the generator wrote (row count, inflow and outflow totals, first and last
dates), the account holder and number the file names, and the warnings a reader owes the user.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from workflows.verification.statements import parse_statement

BANKS = Path(__file__).resolve().parent.parent / "fixtures" / "statements" / "banks"
MANIFEST = json.loads((BANKS / "manifest.json").read_text(encoding="utf-8"))


def parse(entry: dict):
    return parse_statement((BANKS / entry["file"]).read_bytes(), entry["file"])


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["layout"] for entry in MANIFEST])
def test_every_layout_is_read_whole_with_the_figures_the_bank_wrote(entry):
    statement = parse(entry)
    assert statement.errors == [], [(e.line, e.reason) for e in statement.errors]
    rows = statement.transactions
    inflow = sum((t.amount for t in rows if t.amount > 0), Decimal("0"))
    outflow = -sum((t.amount for t in rows if t.amount < 0), Decimal("0"))
    assert len(rows) == entry["rows"]
    assert (f"{inflow:.2f}", f"{outflow:.2f}") == (entry["inflow"], entry["outflow"])
    assert min(t.date for t in rows).isoformat() == entry["first_date"]
    assert max(t.date for t in rows).isoformat() == entry["last_date"]
    assert all(t.amount.as_tuple().exponent == -2 for t in rows)


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["layout"] for entry in MANIFEST])
def test_every_layout_names_its_holder_account_and_bank(entry):
    statement = parse(entry)
    assert statement.account_name == entry["holder"]
    assert statement.account_no == entry["account_no"]
    assert statement.bank == entry["bank"]


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["layout"] for entry in MANIFEST])
def test_every_layout_gives_exactly_the_warnings_it_owes(entry):
    statement = parse(entry)
    assert sorted(w.code for w in statement.warnings) == sorted(entry["warnings"])
    for warning in statement.warnings:
        assert warning.message_zh and warning.message_en


def test_the_corpus_covers_the_large_banks_both_kinds_of_account_and_every_format():
    assert len(MANIFEST) >= 20
    groups = {entry["bank_group"] for entry in MANIFEST}
    assert {"ICBC", "ABC", "BOC", "CCB", "BOCOM", "CMB", "SPDB", "CIB", "CITIC", "CEB", "CMBC", "PSBC",
            "Ping An", "Rural commercial bank"} <= groups
    assert {entry["kind"] for entry in MANIFEST} == {"corporate", "personal"}
    assert sum(entry["kind"] == "personal" for entry in MANIFEST) >= 8
    formats = " ".join(entry["format"] for entry in MANIFEST)
    for needed in ("GBK", "GB18030", "UTF-8 BOM", "CSV UTF-8", "XLSX", "XLS (BIFF8)", "HTML as .xls"):
        assert needed in formats
    assert all((BANKS / entry["file"]).exists() for entry in MANIFEST)


def test_no_footer_line_becomes_a_transaction():
    """Totals, page totals, carried lines, signatures and disclaimers: never a transaction."""
    footer_words = ("合计", "小计", "总计", "承前", "笔数", "仅供参考", "签", "经办", "打印", "Total")
    for entry in MANIFEST:
        for t in parse(entry).transactions:
            assert not any(word in t.summary or word in t.counterparty for word in footer_words), (entry["file"], t)
