"""Start-up of the app and its CLI against a baseline measured in the same run (issue 15, item 2).

    .venv/bin/python bench/startup.py                 # --runs 5 --rows 100000
    .venv/bin/python bench/startup.py --compile       # compile the project's bytecode first (make bytecode)
    .venv/bin/python bench/startup.py --pyc           # also with a warm bytecode cache for everything
    git archive HEAD | tar -x -C /tmp/before && .venv/bin/python bench/startup.py --compile --before /tmp/before
    .venv/bin/python bench/startup.py --pandas-python /tmp/pandas-venv/bin/python   # pandas elsewhere

Each measure is a fresh process, run --runs times, the measures interleaved so that the load of a
shared machine falls on all of them alike; the median is printed, as wall time and as CPU time
(user + system of the child: steadier than the wall time when other jobs share the cores).

- baseline: `python -c "import flask, sqlalchemy.orm, celery, flask_sqlalchemy, wtforms"`;
- `import wsgi` (which calls create_app()), `create_app()` from the package;
- `flask --app wsgi --help`, `flask --app wsgi verify offline ...` on a small statement,
  `flask --app wsgi statements parse FILE --json` on a generated --rows statement;
- pandas.read_csv of the same file, whole process (bench/verification.py does the same).

Targets: every start at most 2x the baseline; `statements parse` at most 3x pandas.

Bytecode: the project is installed in editable mode, and where PYTHONDONTWRITEBYTECODE=1 is set
(these machines) a process writes no .pyc: without `make bytecode` (python -m compileall, which
`make install` and deploy/serve-prod.sh run) every process compiles the app's ~230 modules again.
The first line of the output says which it measured: how many of the project's modules have a
current .pyc in their __pycache__ (and the same for --before DIR). --compile compiles them first
(in DIR too), as a deployment does. With --pyc the app measures are repeated with
PYTHONPYCACHEPREFIX pointing at a temporary, warmed cache for every module, the libraries' too.
With --before DIR, `import wsgi` and `flask --help` are measured too in DIR, another copy of the
project (an earlier commit), with this virtualenv: before and after side by side.
pandas is a `bench` extra (pip install -e ".[bench]"); --pandas-python names another interpreter
that has it (the same Python version, for a fair start-up).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_model, memory_gb  # noqa: E402

VENV_BIN = Path(sys.executable).parent
BASELINE = "import flask, sqlalchemy.orm, celery, flask_sqlalchemy, wtforms"
PANDAS_SCRIPT = "import sys, pandas; pandas.read_csv(sys.argv[1], encoding='gb18030', skiprows=3)"
START_TARGET = 2.0
PARSE_TARGET = 3.0


def run_once(command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one process, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{command} failed ({completed.returncode}):\n{completed.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


Commands = dict[str, tuple[list[str], dict[str, str] | None, Path]]


def measure(commands: Commands, runs: int) -> dict[str, list]:
    for command, env, cwd in commands.values():  # once each first: caches warm, a broken command fails early
        run_once(command, env, cwd)
    times: dict[str, list] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, env, cwd) in commands.items():
            times[name].append(run_once(command, env, cwd))
    return times


def bytecode_state(root: Path) -> tuple[int, int]:
    """(modules with a current .pyc in __pycache__, modules) of the project's own code in `root`:
    what a process reads rather than compiles, where no PYTHONPYCACHEPREFIX is set."""
    sources = [*root.glob("marketplace/**/*.py"), *root.glob("workflows/**/*.py"), root / "wsgi.py"]
    current = 0
    for source in sources:
        cached = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
        try:
            header = cached.read_bytes()[:16]
        except OSError:
            continue
        stat = source.stat()  # a timestamp .pyc: flags 0, then the source's mtime and size
        if (int.from_bytes(header[4:8], "little") == 0
                and int.from_bytes(header[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF
                and int.from_bytes(header[12:16], "little") == stat.st_size & 0xFFFFFFFF):
            current += 1
    return current, len(sources)


def describe_bytecode(root: Path) -> str:
    current, total = bytecode_state(root)
    if current == total:
        how = "every process reads it"
    elif os.environ.get("PYTHONDONTWRITEBYTECODE"):
        how = f"PYTHONDONTWRITEBYTECODE is set: every process compiles the other {total - current} again"
    else:
        how = "the first process writes the missing ones"
    return f"{root}: {current} of {total} project modules have current bytecode ({how})"


def compile_project(root: Path) -> None:
    """What `make bytecode` does (python -m compileall -q marketplace workflows wsgi.py)."""
    for folder in ("marketplace", "workflows"):
        compileall.compile_dir(root / folder, quiet=1)
    compileall.compile_file(root / "wsgi.py", quiet=1)


def machine() -> str:
    load = os.getloadavg()
    return (f"{sys.platform}, {cpu_model()}, {os.cpu_count()} cores, {memory_gb():.0f} GB, "
            f"Python {sys.version.split()[0]}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the statement that `parse` reads")
    parser.add_argument("--pyc", action="store_true", help="also measure with a warm bytecode cache")
    parser.add_argument("--before", type=Path, help="another copy of the project to measure side by side")
    parser.add_argument("--compile", action="store_true",
                        help="compile the project's bytecode first (and --before's), as `make bytecode` does")
    parser.add_argument("--pandas-python", type=Path, help="the interpreter that runs pandas (default: this one)")
    args = parser.parse_args(argv)
    if args.compile:
        for root in (ROOT, args.before):
            if root is not None:
                compile_project(root.resolve())

    from bench.verification import make_statement_csv
    from bench.verification_latency import cli_args, make_transactions, write_files

    python, flask = str(VENV_BIN / "python"), str(VENV_BIN / "flask")
    pandas_python = str(args.pandas_python or python)
    if subprocess.run([pandas_python, "-c", "import pandas"], capture_output=True).returncode:
        raise SystemExit(f"{pandas_python} has no pandas: pip install -e '.[bench]', or name one with --pandas-python")
    print(f"machine: {machine()}")
    for root in (ROOT, args.before):
        if root is not None:
            print(f"bytecode: {describe_bytecode(root.resolve())}")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        big = folder / "statement_gb18030.csv"
        make_statement_csv(big, rows=args.rows)
        small_statement, receivables = write_files(folder, make_transactions(target_rows=500))
        app_commands = {
            "import wsgi": [python, "-c", "import wsgi"],
            "create_app()": [python, "-c", "from marketplace import create_app; create_app()"],
            "flask --app wsgi --help": [flask, "--app", "wsgi", "--help"],
            "flask --app wsgi verify offline (500 rows)": [
                flask, "--app", "wsgi", "verify", "offline", *cli_args(small_statement, receivables)],
            f"flask --app wsgi statements parse ({args.rows:,} rows)": [
                flask, "--app", "wsgi", "statements", "parse", str(big), "--json"],
        }
        commands: Commands = {
            "baseline imports": ([python, "-c", BASELINE], None, ROOT),
            f"pandas.read_csv ({args.rows:,} rows)": ([pandas_python, "-c", PANDAS_SCRIPT, str(big)], None, ROOT),
        }
        commands.update({name: (command, None, ROOT) for name, command in app_commands.items()})
        if args.pyc:
            cache = folder / "pycache"
            env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": ""}
            commands.update({f"{name} [pyc]": (command, env, ROOT) for name, command in app_commands.items()})
        if args.before:
            for name in ("import wsgi", "flask --app wsgi --help"):
                commands[f"{name} [before]"] = (app_commands[name], None, args.before.resolve())
        times = measure(commands, args.runs)
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    medians = {name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
               for name, values in times.items()}
    base_wall, base_cpu = medians["baseline imports"]
    pandas_wall, pandas_cpu = medians[f"pandas.read_csv ({args.rows:,} rows)"]
    print(f"\nmedian of {args.runs} fresh processes each, interleaved")
    print(f"{'measure':<52} {'wall s':>7} {'CPU s':>7} {'x base':>7} {'x base':>7} {'x pandas':>9}")
    print(f"{'':<52} {'':>7} {'':>7} {'(wall)':>7} {'(CPU)':>7} {'(wall)':>9}")
    for name, (wall, cpu) in medians.items():
        print(f"{name:<52} {wall:7.3f} {cpu:7.3f} {wall / base_wall:7.2f} {cpu / base_cpu:7.2f} "
              f"{wall / pandas_wall:9.2f}")
    print()
    for name in app_commands:
        if "statements parse" in name:
            continue
        for label in (name, f"{name} [pyc]", f"{name} [before]"):
            if label in medians:
                ratio = medians[label][0] / base_wall
                print(f"{label}: {ratio:.2f}x the baseline (target <= {START_TARGET:.0f}x: "
                      f"{'met' if ratio <= START_TARGET else 'MISSED'})")
    parse = next(name for name in app_commands if "statements parse" in name)
    for label in (parse, f"{parse} [pyc]"):
        if label in medians:
            ratio = medians[label][0] / pandas_wall
            print(f"{label}: {ratio:.2f}x pandas' whole process (target <= {PARSE_TARGET:.0f}x: "
                  f"{'met' if ratio <= PARSE_TARGET else 'MISSED'})")


if __name__ == "__main__":
    main()
