"""Benchmark of cash-flow verification (issue 4, item 10).

Run from the project root:  .venv/bin/python bench/verification.py [--rows N] [--runs N]

Part 1, statement parsing: generates a 100,000-row GB18030 CSV statement shaped like an ICBC
export (title and account rows, 借方发生额/贷方发生额 with thousands separators and blanks,
Chinese counterparties and summaries, totals at the bottom), then times whole processes:

    .venv/bin/flask --app wsgi statements parse FILE --json > /dev/null
    .venv/bin/python -c "import pandas; pandas.read_csv(FILE, encoding='gb18030', ...)"

median of --runs runs each, interleaved, in one run of this script. Target: at most 5x pandas.
It also times the app start alone (`flask --app wsgi --help`) and parse_statement() in-process,
to show where the time goes. pandas: `pip install -e '.[bench]'`.

Further parts (verification latency) are added as functions and listed in SECTIONS.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = ROOT / ".venv" / "bin"
SEED = 20261122
TARGET_RATIO = 5.0

# --- the generated statement --------------------------------------------------------------------

CITIES = ["苏州", "无锡", "常州", "南京", "上海", "杭州", "宁波", "昆山", "张家港", "常熟", "太仓", "南通"]
TRADES = ["精密机械", "电子科技", "新材料", "物流", "包装材料", "五金制品", "化工", "纺织", "汽车零部件",
          "智能装备", "光电科技", "建筑工程", "供应链管理", "模具", "塑胶制品", "环保科技"]
FORMS = ["有限公司", "股份有限公司", "有限责任公司", "（集团）有限公司"]
INFLOW_SUMMARIES = ["货款", "收到货款", "销售回款", "预收款", "往来款", "退款", "利息"]
OUTFLOW_SUMMARIES = ["支付货款", "采购付款", "工资", "社保", "代扣税款", "电费", "水费", "房租",
                     "运费", "手续费", "报销", "往来款"]
PURPOSES = ["合同款", "第一期", "尾款", "2024年度", "发票结算", "", "", ""]
HEADER = ["凭证号", "交易时间", "对方账号", "对方单位名称", "借/贷", "借方发生额", "贷方发生额",
          "余额", "摘要", "用途", "本方账号"]
ACCOUNT_NO = "1102020109000123456"
ACCOUNT_NAME = "苏州恒信精密机械有限公司"


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def make_statement_csv(path: Path, rows: int = 100_000, seed: int = SEED) -> dict[str, object]:
    """Write a GB18030 statement CSV of `rows` transactions; return its expected totals."""
    rng = random.Random(seed)
    names = [f"{rng.choice(CITIES)}{rng.choice('华恒瑞信达成泰隆兴盛鑫源通宏')}{rng.choice('华恒瑞信达成泰隆兴盛鑫源通宏')}"
             f"{rng.choice(TRADES)}{rng.choice(FORMS)}" for _ in range(400)]
    accounts = [str(rng.randrange(10**18, 10**19)) for _ in names]
    start = datetime(2024, 1, 1, 8, 0, 0)
    step = timedelta(days=365) / rows
    balance = Decimal("1500000.00")
    inflow = outflow = Decimal("0")
    n_in = n_out = 0
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["中国工商银行 账户历史明细"])
    writer.writerow([f"账号：{ACCOUNT_NO}", f"户名：{ACCOUNT_NAME}", "币种：人民币"])
    writer.writerow(["起止日期：2024-01-01 至 2024-12-31"])
    writer.writerow(HEADER)
    for number in range(rows):
        when = start + step * number
        who = rng.randrange(len(names))
        if rng.random() < 0.45:
            amount = Decimal(rng.randrange(50_00, 500_000_00)) / 100
            balance += amount
            inflow += amount
            n_in += 1
            flag, debit, credit = "贷", "", _money(amount)
            summary = rng.choice(INFLOW_SUMMARIES)
        else:
            amount = Decimal(rng.randrange(1_00, 410_000_00)) / 100
            balance -= amount
            outflow += amount
            n_out += 1
            flag, debit, credit = "借", _money(amount), ""
            summary = rng.choice(OUTFLOW_SUMMARIES)
        writer.writerow([
            f"{number + 1:08d}", when.strftime("%Y-%m-%d %H:%M:%S"), accounts[who], names[who],
            flag, debit, credit, _money(balance), summary, rng.choice(PURPOSES), ACCOUNT_NO,
        ])
    pad = [""] * (len(HEADER) - 7)
    writer.writerow(["合计", "", "", "", "", _money(outflow), _money(inflow), *pad])
    writer.writerow([f"借方笔数：{n_out}", f"贷方笔数：{n_in}", *([""] * (len(HEADER) - 2))])
    writer.writerow(["打印日期：2024-12-31 17:30:00", *([""] * (len(HEADER) - 1))])
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    return {"rows": rows, "inflow": inflow, "outflow": outflow}


# --- measuring ----------------------------------------------------------------------------------


def run_once(command: list[str]) -> float:
    """Wall time of one whole process, its output thrown away; fails loudly on a bad exit."""
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {completed.returncode}:\n"
                         f"{completed.stderr.decode(errors='replace')}")
    return elapsed


def median_times(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Each command `runs` times, interleaved so that load changes hit them alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # one warm-up each: file cache, .pyc files
        run_once(command)
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(run_once(command))
    return times


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    return (f"{platform.platform()}, {cpu}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}{load}")


def print_table(times: dict[str, list[float]], reference: str) -> None:
    base = statistics.median(times[reference])
    print(f"{'measure':<44} {'median':>9} {'min':>9} {'max':>9} {'x pandas':>9}")
    for name, values in times.items():
        middle = statistics.median(values)
        print(f"{name:<44} {middle:>8.3f}s {min(values):>8.3f}s {max(values):>8.3f}s "
              f"{middle / base:>8.2f}x")


# --- part 1: statement parsing ------------------------------------------------------------------

# The title rows have fewer fields than the table: pandas' C parser stops on them without
# skiprows (the only argument added to a plain read_csv).
PANDAS_SCRIPT = "import sys, pandas; pandas.read_csv(sys.argv[1], encoding='gb18030', skiprows=3)"


def bench_parse(args: argparse.Namespace) -> None:
    """Whole-process time: the statements CLI against pandas.read_csv on the same file."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise SystemExit("pandas is missing: .venv/bin/pip install -e '.[bench]'") from None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statement_gb18030.csv"
        expected = make_statement_csv(path, rows=args.rows)
        size = path.stat().st_size
        print(f"file: {args.rows:,} rows, {size / 1e6:.1f} MB GB18030, "
              f"inflow {expected['inflow']:,.2f}, outflow {expected['outflow']:,.2f}")
        _check_cli(path, expected)
        python = str(VENV_BIN / "python")
        commands = {
            "pandas.read_csv (whole process)": [python, "-c", PANDAS_SCRIPT, str(path)],
            "flask statements parse --json (whole)": [
                str(VENV_BIN / "flask"), "--app", "wsgi", "statements", "parse", str(path), "--json"],
            "app start alone (flask --app wsgi --help)": [
                str(VENV_BIN / "flask"), "--app", "wsgi", "--help"],
            "python -c 'import pandas' alone": [python, "-c", "import pandas"],
        }
        times = median_times(commands, args.runs)
        inproc = _in_process(path, args.runs)
    print()
    print_table(times, "pandas.read_csv (whole process)")
    for name, values in inproc.items():
        print(f"in-process {name:<26} median {statistics.median(values):.3f}s "
              f"(min {min(values):.3f}s, {args.runs} runs)")
    ratio = statistics.median(times["flask statements parse --json (whole)"]) / statistics.median(
        times["pandas.read_csv (whole process)"])
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"ratio CLI / pandas: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x: {verdict})")


def _check_cli(path: Path, expected: dict[str, object]) -> None:
    """The CLI must accept the file and agree with the generator before it is timed."""
    import json

    completed = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "statements", "parse", str(path), "--json"],
        cwd=ROOT, capture_output=True)
    report = json.loads(completed.stdout)
    problems = []
    if completed.returncode != 0 or report["errors"]:
        problems.append(f"rejected: {report['errors'][:3]}")
    if report["row_count"] != expected["rows"]:
        problems.append(f"row_count {report['row_count']} != {expected['rows']}")
    if Decimal(report["inflow_total"]) != expected["inflow"]:
        problems.append(f"inflow {report['inflow_total']} != {expected['inflow']}")
    if Decimal(report["outflow_total"]) != expected["outflow"]:
        problems.append(f"outflow {report['outflow_total']} != {expected['outflow']}")
    if problems:
        raise SystemExit("the CLI disagrees with the generated file: " + "; ".join(problems))


def _in_process(path: Path, runs: int) -> dict[str, list[float]]:
    """parse_statement() and the JSON writing alone, with the collector off as the CLI has it."""
    import gc

    from marketplace.statements.cli import report_json
    from workflows.verification.statements import parse_statement

    data = path.read_bytes()
    times: dict[str, list[float]] = {"parse_statement()": [], "report_json()": []}
    gc.disable()
    try:
        for _ in range(runs):
            started = time.perf_counter()
            statement = parse_statement(data, path.name)
            parsed = time.perf_counter()
            report_json(statement)
            times["parse_statement()"].append(parsed - started)
            times["report_json()"].append(time.perf_counter() - parsed)
            del statement
            gc.collect()
    finally:
        gc.enable()
    return times


# --- part 3: verify() on a big statement, with and without the red flags -----------------------


def bench_verify(args: argparse.Namespace) -> None:
    """verify() in-process on the generated statement (parsed once), against the same run with
    the red-flag detection switched off, to show what the flags cost on --rows rows."""
    from datetime import date
    from unittest import mock

    from workflows.verification import policy
    from workflows.verification.policy import EnterpriseInput, ReceivableInput, verify
    from workflows.verification.statements import parse_statement

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statement_gb18030.csv"
        make_statement_csv(path, rows=args.rows)
        statement = parse_statement(path.read_bytes(), path.name)
    debtors = sorted({tx.counterparty for tx in statement.transactions if tx.amount > 0})[:10]
    receivables = [ReceivableInput(f"INV{n}", name, "", Decimal("100000.00"), date(2024, 12, 1),
                                   date(2025, 3, 1), "confirmed") for n, name in enumerate(debtors)]
    enterprise = EnterpriseInput(ACCOUNT_NAME, "91320505MA1N2K3A4X")

    def once() -> float:
        started = time.perf_counter()
        verify(enterprise=enterprise, receivables=receivables, statements=[statement],
               requested_amount=Decimal("3000000.00"), as_of=date(2025, 1, 1))
        return time.perf_counter() - started

    report = verify(enterprise=enterprise, receivables=receivables, statements=[statement],
                    requested_amount=Decimal("3000000.00"), as_of=date(2025, 1, 1))
    with_flags = [once() for _ in range(args.runs)]
    with mock.patch.object(policy, "detect", lambda *a, **k: ()):
        without = [once() for _ in range(args.runs)]
    print(f"{len(statement.transactions):,} rows, 10 debtors; red flags found: "
          f"{', '.join(f.code for f in report.red_flags) or 'none'}")
    for name, values in (("verify() with red flags", with_flags), ("verify() without red flags", without)):
        print(f"{name:<30} median {statistics.median(values):.3f}s (min {min(values):.3f}s, {args.runs} runs)")


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "parse": bench_parse,
    "verify": bench_verify,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="statement rows (parse)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append",
                        help="run only these parts (default: all)")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    print(f"date: {datetime.now():%Y-%m-%d %H:%M}")
    for name, section in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        print(f"\n== {name} ==")
        section(args)


if __name__ == "__main__":
    main()
