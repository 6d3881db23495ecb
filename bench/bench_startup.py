"""Start-up wall time of `switchboard --help` and `switchboard route "hi"`, hyperfine style.

Run: python bench/bench_startup.py /work/old/.venv/bin/switchboard [--runs 10] [--top 25]

Each command runs `--warmup` times untimed (warm page cache), then `--runs` times; the table
gives min / median / p90 / max wall time, and the median CPU time (user + system) of the
process, which other jobs on a shared machine inflate much less than the wall time. Then, for
the slowest command, the script re-runs it under `python -X importtime` (the venv's own
interpreter, found next to the executable) and prints the top-level packages by import time,
each with the first-party import chain that pulled it in, and the first-party modules with the
largest cumulative import time.

Every command runs in an empty temporary directory with DATA_DIR pointing into it, so no `.env`
and no existing database is read. Any Python, any venv: the script imports nothing from the
project.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    'route "hi"': ["route", "hi"],
}
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def clean_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "LLM_"))}
    env["DATA_DIR"] = str(workdir / "var")
    env.pop("DATABASE_URL", None)
    return env


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(
    argv: list[str], env: dict[str, str], cwd: Path, runs: int, warmup: int
) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds: user + system) of each timed run."""
    for _ in range(warmup):
        subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
    walls, cpus = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), children_cpu_s()
        subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
        cpus.append(children_cpu_s() - started_cpu)
    return walls, cpus


@dataclass
class Import:
    name: str
    self_us: int
    cumulative_us: int
    chain: tuple[str, ...]  # the modules whose import led here, outermost first


def import_costs(
    python: Path, exe: Path, args: list[str], env: dict[str, str], cwd: Path
) -> list[Import]:
    """Every module imported by `python -X importtime <exe> args`, with who imported it."""
    done = subprocess.run(
        [str(python), "-X", "importtime", str(exe), *args],
        env=env, cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    parsed = []
    for line in done.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            depth = (len(match[3]) - 1) // 2
            parsed.append((depth, match[4], int(match[1]), int(match[2])))
    # The output is in post-order (a module after the modules it imported); reversed, a
    # module's importer is the nearest earlier line one level up.
    rows: list[Import] = []
    stack: list[str] = []
    for depth, name, own, cumulative in reversed(parsed):
        del stack[depth:]
        rows.append(Import(name, own, cumulative, tuple(stack)))
        stack.append(name)
    rows.reverse()
    return rows


def print_import_report(rows: list[Import], top: int, first_party: set[str]) -> None:
    total_us = sum(row.self_us for row in rows)
    print(f"\nimport time (sum of self times): {total_us / 1000:.0f} ms over {len(rows)} modules")
    by_package: dict[str, int] = defaultdict(int)
    for row in rows:
        by_package[row.name.split(".")[0]] += row.self_us
    print(f"\ntop {top} top-level packages by self time (ms), and the import that pulled each in:")
    for package, own in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]:
        first = next(row for row in rows if row.name.split(".")[0] == package)
        importers = [name for name in first.chain if name.split(".")[0] in first_party]
        via = " > ".join(importers[-3:]) if importers and package not in first_party else ""
        print(f"  {own / 1000:8.1f}  {package:<20} {('via ' + via) if via else ''}")
    print(f"\ntop {top} first-party modules by cumulative time (ms, includes what they import):")
    first_party_rows = [row for row in rows if row.name.split(".")[0] in first_party]
    for row in sorted(first_party_rows, key=lambda r: -r.cumulative_us)[:top]:
        print(f"  {row.cumulative_us / 1000:8.1f}  {row.name}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("switchboard", type=Path, help="path of a venv's `switchboard` executable")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--top", type=int, default=25, help="rows of the import report")
    parser.add_argument(
        "--first-party",
        default="bot,adapters,routing,storage",
        help="the project's top-level packages (comma-separated), for the import report",
    )
    parser.add_argument("--no-importtime", action="store_true", help="skip the import report")
    args = parser.parse_args()
    exe = args.switchboard.absolute()
    python = exe.parent / "python"
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        parser.error(f"{exe} is not an executable file")
    if not python.exists():
        parser.error(f"no python next to {exe} (expected {python})")
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    print(f"executable: {exe}")
    print(f"load average before: {loadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        cwd = Path(tmp)
        env = clean_env(cwd)
        results: dict[str, list[float]] = {}
        print(f"\n{'command':<14}{'runs':>5}{'min':>9}{'median':>9}{'p90':>9}{'max':>9}"
              f"{'cpu med':>9}  (s)")  # fmt: skip
        for label, command_args in COMMANDS.items():
            try:
                argv = [str(exe), *command_args]
                times, cpus = time_command(argv, env, cwd, args.runs, args.warmup)
            except subprocess.CalledProcessError as error:
                print(f"error: `{label}` exited {error.returncode}: {error.stderr[-300:]!r}",
                      file=sys.stderr)  # fmt: skip
                return 1
            results[label] = times
            print(f"{label:<14}{len(times):>5}{min(times):>9.3f}{percentile(times, 0.5):>9.3f}"
                  f"{percentile(times, 0.9):>9.3f}{max(times):>9.3f}"
                  f"{percentile(cpus, 0.5):>9.3f}")  # fmt: skip
        print(f"load average after: {loadavg()}")
        if not args.no_importtime:
            slowest = max(results, key=lambda label: percentile(results[label], 0.5))
            print(f"\nslowest: `switchboard {slowest}` under -X importtime")
            rows = import_costs(python, exe, COMMANDS[slowest], env, cwd)
            print_import_report(rows, args.top, set(args.first_party.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
