"""The report PDF as the web worker makes it by default (PDF_RENDER_ISOLATED): html_to_pdf in a child
of the isolation forkserver (marketplace.isolation.run_limited), with the code of a project tree.

    .venv/bin/python bench/pdf.py --runs 1 --first-runs 1 --baseline-template FILE --keep /tmp/pdf
    git archive <commit> | tar -x -C /tmp/before      # the code before, to run beside the current
    for i in 1 2 3; do
      .venv/bin/python bench/pdf_isolated.py /tmp/before /tmp/pdf/typical-baseline.html
      .venv/bin/python bench/pdf_isolated.py . /tmp/pdf/typical.html
    done

Prints the wall time of each whole call (fork, render, the PDF sent back) and the CPU time the
child spent rendering, after one render not counted. The tree's own marketplace package (and
its forkserver preload) is used, whatever the working directory; the venv is this one.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

RUNS = 7


def render(html: str, static: str) -> float:
    """In the child: CPU seconds of one html_to_pdf."""
    from marketplace.pdf import html_to_pdf

    start = time.process_time()
    html_to_pdf(html, static, 60)
    return time.process_time() - start


def pdf_module_file() -> str:
    import marketplace.pdf

    return str(Path(marketplace.pdf.__file__).resolve())


def run_limited_file(isolation) -> str:
    """Which marketplace/pdf.py a child of the forkserver runs (and the forkserver started)."""
    return isolation.run_limited(pdf_module_file, memory_mb=1536, seconds=60)


def main() -> None:
    root, html = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).read_text()
    os.chdir(root)  # the forkserver finds its preload from its working directory first
    sys.path.insert(0, str(root))
    from marketplace import isolation

    static = str(root / "static")
    assert run_limited_file(isolation) == str(root / "marketplace" / "pdf.py"), "the child runs another tree's code"
    isolation.run_limited(render, html, static, memory_mb=1536, seconds=60)  # the first render of the forkserver
    walls, cpus = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        cpus.append(isolation.run_limited(render, html, static, memory_mb=1536, seconds=60))
        walls.append(time.perf_counter() - start)
    print(f"{str(root):<24} wall median {statistics.median(walls):.3f}s min {min(walls):.3f}s   "
          f"child CPU median {statistics.median(cpus):.3f}s min {min(cpus):.3f}s")


if __name__ == "__main__":
    main()
