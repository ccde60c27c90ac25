"""Benchmark of the verification report PDF (issue 15): a typical report, a large one, and the
first PDF of a fresh process with and without marketplace.pdf.warm_up().

Run from the project root:  .venv/bin/python bench/pdf.py [--runs N] [--first-runs N]
                                [--baseline-template FILE] [--keep FOLDER]

The reports are made by the real engine (workflows.verification.verify) on the data of
bench/verification_latency.py: one account's 2025 statement (5,004 rows) and 10 receivables
(typical); the large one pledges 1,000 receivables (the same ten repeated under new invoice
numbers, as tests/verification/test_report_pdf_limits.py does), of which the PDF lists 50 and
totals the rest by grade. The HTML is rendered from templates/pdf/verification_report.html in
an app context (no database: the yellow-list look-up answers "not listed"), then turned into a
PDF by marketplace.pdf.html_to_pdf in this process, as a Celery worker or an unisolated web
worker does. The first-PDF figures are whole child processes, alternating with and without the
warm-up.

A baseline template is rendered as the PDF was before issue 15's second pass: with the charts the
web page draws (tooltips, no typeface named) and, while it is timed, with tinyhtml5's own (never
hit) cache of chars_until() expressions and the garbage collector running (`renderer`). Each
render's CPU time is shown beside its wall time: on a shared machine the wall time also counts
the time other processes held the cores. --keep also writes the HTML, for bench/pdf_isolated.py
(the same renders in a child of the isolation forkserver, as the web worker makes them).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_model, memory_gb  # noqa: E402

LARGE_RECEIVABLES = 1_000


def payload(receivables: int) -> dict:
    """The stored payload of a verification report (Report.to_dict()) with `receivables` pledged."""
    from bench.verification_latency import (
        AS_OF,
        ENTERPRISE,
        ENTERPRISE_USCC,
        REQUESTED,
        make_receivables,
        make_transactions,
    )
    from workflows.verification.policy import EnterpriseInput, verify

    report = verify(enterprise=EnterpriseInput(ENTERPRISE, ENTERPRISE_USCC), receivables=make_receivables(),
                    statements=[make_transactions()], requested_amount=REQUESTED, as_of=AS_OF)
    data = report.to_dict()
    first = data["receivables"]
    if receivables != len(first):
        data = copy.deepcopy(data)
        data["receivables"] = [dict(first[n % len(first)], invoice_no=f"INV-{n:05d}") for n in range(receivables)]
    return data


def build_app(instance: str):
    from marketplace import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://127.0.0.1:5432/bench_pdf_unused",
                      "SECRET_KEY": "bench", "AUDIT_KEY": "bench-audit", "ENCRYPTION_KEY": "bench-encryption",
                      "PDF_RENDER_ISOLATED": False}, instance_path=instance)
    app.jinja_env.get_template("pdf/base.html")  # loads the views (and their template globals) if deferred
    app.jinja_env.globals["yellow_listed"] = lambda enterprise_id: False  # no database here
    return app


def report_html(app, data: dict, source: str | None = None) -> str:
    """templates/pdf/verification_report.html (or a template given as `source`, such as an older
    copy of it) for a report with this payload."""
    from decimal import Decimal

    from flask import render_template, render_template_string

    from marketplace.verification.report_document import report_context

    request = SimpleNamespace(id=4242, enterprise_id=77)
    report = SimpleNamespace(
        id=9001, request_id=4242, submission_no=1, payload=data, classification=data["classification"],
        as_of=datetime.fromisoformat(data["as_of"]).date(), policy_version=data["policy_version"],
        policy_effective_from=datetime.fromisoformat(data["policy_effective_from"]).date(),
        requested_amount=Decimal(data["requested_amount"]), pledged_amount=Decimal(data["pledged_amount"]),
        created_at=datetime(2026, 1, 1, 9, 30, tzinfo=UTC), inputs_sha256="a" * 64,
        receivables_sha256=data["inputs"]["receivables_sha256"],
        statement_sha256s=data["inputs"]["statement_sha256s"])
    with app.test_request_context():
        context = report_context(request, report, pdf=True)
        if source is not None:  # an older template, with the charts as they were drawn for it
            context["charts"] = report_context(request, report)["charts"]
            return render_template_string(source, **context)
        return render_template("pdf/verification_report.html", **context)


@contextlib.contextmanager
def renderer(as_before: bool):
    """html_to_pdf as it is, or (`as_before`) as it was before issue 15's second pass: with
    tinyhtml5's own chars_until() cache (which never hits) and the garbage collector running."""
    from tinyhtml5 import inputstream

    from marketplace import pdf

    saved = inputstream.characters_until_regex, pdf.collector_paused
    if as_before:
        inputstream.characters_until_regex, pdf.collector_paused = {}, contextlib.nullcontext
    else:
        inputstream.characters_until_regex = pdf.CharactersUntilCache()
    try:
        yield
    finally:
        inputstream.characters_until_regex, pdf.collector_paused = saved


def timed_render(html: str, static: str, as_before: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one html_to_pdf and the collection of what
    it left in the young generations."""
    from marketplace.pdf import html_to_pdf

    with renderer(as_before):
        wall, cpu = time.perf_counter(), time.process_time()
        html_to_pdf(html, static, 60)
        gc.collect(1)  # the young garbage of this render, counted here rather than in the next one's time
        return time.perf_counter() - wall, time.process_time() - cpu


def pdf_facts(data: bytes) -> tuple[int, list[str]]:
    """(pages, embedded font names) of a PDF, by poppler's pdfinfo and pdffonts."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True, check=True).stdout
        fonts = subprocess.run(["pdffonts", handle.name], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    names = [line.split()[0] for line in fonts.splitlines()[2:] if line.strip()]
    return pages, names


def child(html_file: str, warm: bool) -> None:
    """One fresh process: (warm-up seconds, first PDF seconds) as JSON on stdout."""
    start = time.perf_counter()
    from marketplace import pdf

    if warm:
        pdf.warm_up()
    warmed = time.perf_counter()
    html = Path(html_file).read_text()
    pdf.html_to_pdf(html, str(ROOT / "static"), 60)
    done = time.perf_counter()
    print(json.dumps({"warm_up": warmed - start, "first_pdf": done - warmed}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="renders of each report, after one untimed")
    parser.add_argument("--first-runs", type=int, default=3, help="fresh processes with and without warm_up")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keep", help="write the typical and large PDFs, and their HTML, into this folder")
    parser.add_argument("--baseline-template", help="an older templates/pdf/verification_report.html to time "
                        "alongside, interleaved (git show <commit>:templates/pdf/verification_report.html > FILE)")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.warm)
        return

    from marketplace.pdf import html_to_pdf

    print(f"machine   {platform.platform()}; {cpu_model()}; {os.cpu_count()} cores; {memory_gb():.0f} GB; "
          f"Python {platform.python_version()}; WeasyPrint {__import__('weasyprint').__version__}")
    print(f"load      {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min) at the start")
    with tempfile.TemporaryDirectory() as instance:
        app = build_app(instance)
        typical, large = payload(10), payload(LARGE_RECEIVABLES)
        documents = {"typical (10 receivables)": report_html(app, typical),
                     f"large ({LARGE_RECEIVABLES:,} receivables, 50 listed)": report_html(app, large)}
        baseline = {}
        if args.baseline_template:
            source = Path(args.baseline_template).read_text()
            baseline = {"typical (10 receivables)": report_html(app, typical, source),
                        f"large ({LARGE_RECEIVABLES:,} receivables, 50 listed)": report_html(app, large, source)}
        static = app.static_folder

    print()
    print(f"{'report':<48}{'median':>9}{'min':>9}{'max':>9}{'CPU med':>9}{'CPU min':>9}{'runs':>6}{'pages':>7}"
          f"  fonts embedded")
    for label, html in documents.items():
        versions = {"": html} | ({" [baseline]": baseline[label]} if baseline else {})
        data = {name: html_to_pdf(text, static, 60) for name, text in versions.items()}  # untimed first renders
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in versions}
        for _ in range(args.runs):  # interleaved: the machine's load hits both alike
            for name, text in versions.items():
                times[name].append(timed_render(text, static, as_before=bool(name)))
        for name in versions:
            pages, fonts = pdf_facts(data[name])
            wall, cpu = [t[0] for t in times[name]], [t[1] for t in times[name]]
            print(f"{label + name:<48}{statistics.median(wall):>8.3f}s{min(wall):>8.3f}s{max(wall):>8.3f}s"
                  f"{statistics.median(cpu):>8.3f}s{min(cpu):>8.3f}s{len(wall):>6}{pages:>7}"
                  f"  {len(fonts)}: {', '.join(fonts)}")
        if baseline:
            ratios = [statistics.median(t[k] for t in times[" [baseline]"]) / statistics.median(t[k] for t in times[""])
                      for k in (0, 1)]
            print(f"{'':<48}baseline / now, median: {ratios[0]:.2f} x wall, {ratios[1]:.2f} x CPU")
        if args.keep:  # the PDFs, and the HTML for bench/pdf_isolated.py
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            for name, text in versions.items():
                stem = label.split()[0] + ("-baseline" if name else "")
                (Path(args.keep) / f"{stem}.pdf").write_bytes(data[name])
                (Path(args.keep) / f"{stem}.html").write_text(text)

    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as handle:
        handle.write(documents["typical (10 receivables)"])
    try:
        found: dict[bool, list[dict]] = {False: [], True: []}
        for _ in range(args.first_runs):
            for warm in (False, True):
                command = [sys.executable, __file__, "--child", handle.name] + (["--warm"] if warm else [])
                output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
                found[warm].append(json.loads(output.strip().splitlines()[-1]))
    finally:
        os.unlink(handle.name)
    print()
    print(f"first typical PDF of a fresh process (median of {args.first_runs}; import of marketplace.pdf included)")
    for warm, label in ((False, "without warm_up()"), (True, "after warm_up() (post_fork)")):
        first = statistics.median(r["first_pdf"] for r in found[warm])
        before = statistics.median(r["warm_up"] for r in found[warm])
        print(f"  {label:<30} first PDF {first:.3f}s" + (f"; warm_up() itself {before:.3f}s" if warm else
                                                          f"; import {before:.3f}s"))
    print(f"load      {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min) at the end")


if __name__ == "__main__":
    main()
