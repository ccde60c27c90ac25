"""`flask --app wsgi statements parse FILE [--json]`: a stable interface checked from outside.

The JSON shape (keep it): row_count, inflow_total, outflow_total (strings with 2 decimals, yuan;
the outflow total as a positive number), first_date, last_date (YYYY-MM-DD or null), account_no,
account_name, bank, sha256, transactions (date, amount signed, balance or null, counterparty,
counterparty_account, summary, line), errors (line, reason) and warnings (code, line, message_zh,
message_en: what the parser noticed without rejecting the file, such as a masked balance column).
Exit status 0 when the file is accepted, 1 when it is rejected (the JSON, with the errors, is
printed all the same).

No app is built for it (a `flask.commands` entry point, see below); the parser is imported when
the command runs.
"""

from __future__ import annotations

import gc
import json
from decimal import Decimal
from json.encoder import encode_basestring
from operator import attrgetter
from pathlib import Path

import click

# A plain click group, not an AppGroup: its commands need no app, so they run without building
# one. Registered as a `flask.commands` entry point (pyproject.toml), which flask finds before it
# would load `--app wsgi`: the start-up is flask's alone (docs/performance.md, "Start-up").
statements_cli = click.Group("statements", help="Bank statement files (对账单).")


@statements_cli.command("parse")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (stable shape).")
def parse_command(file: Path, as_json: bool) -> None:
    """Parse a statement file and print what it contains, or why it is rejected."""
    from workflows.verification.statements import parse_statement

    # A big file makes hundreds of thousands of objects that live to the end; the collector's
    # passes over them would cost more than the parse. Nothing here makes cycles worth collecting.
    collecting = gc.isenabled()
    gc.disable()
    try:
        statement = parse_statement(file.read_bytes(), file.name)
        if as_json:
            output = report_json(statement)
        else:
            output = human_summary(file.name, statement_report(statement, with_rows=False))
    finally:
        if collecting:
            gc.enable()
    click.echo(output.encode("utf-8"))  # bytes: UTF-8 whatever the locale says
    if not statement.accepted:
        raise SystemExit(1)


def _yuan(value: Decimal) -> str:
    return f"{value:.2f}"


def statement_report(statement, *, with_rows: bool = True) -> dict:
    """The stable JSON object for a parsed Statement (transactions left empty without rows)."""
    transactions = statement.transactions
    inflow = sum((t.amount for t in transactions if t.amount > 0), Decimal("0"))
    outflow = -sum((t.amount for t in transactions if t.amount < 0), Decimal("0"))
    dates = [t.date for t in transactions]
    rows = [] if not with_rows else [
        {
            "line": t.line,
            "date": t.date.isoformat(),
            "amount": f"{t.amount:.2f}",
            "balance": None if t.balance is None else f"{t.balance:.2f}",
            "counterparty": t.counterparty,
            "counterparty_account": t.counterparty_account,
            "summary": t.summary,
        }
        for t in transactions
    ]
    return {
        "row_count": len(transactions),
        "inflow_total": _yuan(inflow),
        "outflow_total": _yuan(outflow),
        "first_date": min(dates).isoformat() if dates else None,
        "last_date": max(dates).isoformat() if dates else None,
        "account_no": statement.account_no,
        "account_name": statement.account_name,
        "bank": statement.bank,
        "sha256": statement.sha256,
        "transactions": rows,
        "errors": [{"line": e.line, "reason": e.reason} for e in statement.errors],
        "warnings": [w.as_dict() for w in statement.warnings],
    }


_ROW_FIELDS = attrgetter("line", "date", "amount", "balance", "counterparty", "counterparty_account", "summary")


def report_json(statement) -> str:
    """json.dumps(statement_report(statement)) written directly: twice as fast for 100,000 rows,
    which matters to the whole-process benchmark (tests check that both agree)."""
    meta = statement_report(statement, with_rows=False)
    errors = meta.pop("errors")
    warnings = meta.pop("warnings")
    del meta["transactions"]
    quote = encode_basestring  # the C encoder json.dumps uses with ensure_ascii=False
    iso: dict = {}
    rows = []
    append = rows.append
    for line, when, value, balance, party, account, summary in map(_ROW_FIELDS, statement.transactions):
        day = iso.get(when)
        if day is None:
            day = iso[when] = when.isoformat()
        # str() of an amount with exactly 2 decimals (the parser's) is its "{:.2f}", 4x faster
        amount = str(value)
        if amount[-3:-2] != ".":
            amount = f"{value:.2f}"
        if balance is not None:
            text = str(balance)
            balance = f'"{text}"' if text[-3:-2] == "." else f'"{balance:.2f}"'
        else:
            balance = "null"
        append(
            f'{{"line":{line},"date":"{day}","amount":"{amount}","balance":{balance},'
            f'"counterparty":{quote(party)},'
            f'"counterparty_account":{quote(account)},'
            f'"summary":{quote(summary)}}}'
        )
    head = json.dumps(meta, ensure_ascii=False, separators=(",", ":"))
    tail = json.dumps(errors, ensure_ascii=False, separators=(",", ":"))
    notes = json.dumps(warnings, ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"transactions":[{",".join(rows)}],"errors":{tail},"warnings":{notes}}}'


def human_summary(filename: str, report: dict) -> str:
    """A short Chinese summary for people."""
    lines = [f"文件：{filename}（SHA-256 {report['sha256'][:12]}…）"]
    holder = "，".join(
        f"{label}：{report[key]}"
        for label, key in (("银行", "bank"), ("账号", "account_no"), ("户名", "account_name"))
        if report[key]
    )
    if holder:
        lines.append(holder)
    if report["errors"]:
        lines.append(f"结果：已拒绝，共{len(report['errors'])}处问题，整个文件未导入")
        shown = report["errors"][:20]
        for error in shown:
            where = f"第{error['line']}行：" if error["line"] else ""
            lines.append(f"  {where}{error['reason']}")
        if len(report["errors"]) > len(shown):
            lines.append(f"  ……另有{len(report['errors']) - len(shown)}处问题未列出（用 --json 查看全部）")
        return "\n".join(lines)
    lines.append(f"结果：可以导入，共{report['row_count']}笔交易")
    lines.append(f"期间：{report['first_date']} 至 {report['last_date']}")
    lines.append(
        f"收入合计：{Decimal(report['inflow_total']):,.2f} 元，"
        f"支出合计：{Decimal(report['outflow_total']):,.2f} 元"
    )
    lines.extend(_warning_lines(report))
    return "\n".join(lines)


def _warning_lines(report: dict) -> list[str]:
    if not report.get("warnings"):
        return []
    lines = [f"提示：共{len(report['warnings'])}条"]
    for warning in report["warnings"]:
        where = f"第{warning['line']}行：" if warning["line"] else ""
        lines.append(f"  {where}{warning['message_zh']}")
    return lines
