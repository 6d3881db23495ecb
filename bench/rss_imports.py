"""Where a process's memory goes at import: RSS after importing each module, in order.

Run with the interpreter of the venv to inspect (it imports the named modules there):
    /work/old/.venv/bin/python bench/rss_imports.py numpy scipy.stats matplotlib.pyplot \
        sqlalchemy aiohttp slack_bolt bot.bootstrap adapters.slack.service

Each module is imported after the ones before it, so a line shows what that module adds on top
of everything already loaded (shared dependencies count once, towards the first importer).
Figures are VmRSS from /proc/self/status, in MB (1 MB = 2^20 bytes, as the kernel reports kB).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="+", help="modules to import, in this order")
    args = parser.parse_args()
    start = previous = rss_mb()
    print(f"{'module':<40}{'+MB':>8}{'total MB':>10}{'ms':>8}")
    print(f"{'(interpreter)':<40}{'':>8}{start:>10.1f}")
    for name in args.modules:
        started = time.perf_counter()
        try:
            importlib.import_module(name)
        except ImportError as error:
            print(f"error: cannot import {name}: {error}", file=sys.stderr)
            return 1
        elapsed = (time.perf_counter() - started) * 1000
        now = rss_mb()
        print(f"{name:<40}{now - previous:>8.1f}{now:>10.1f}{elapsed:>8.0f}")
        previous = now
    print(f"{'total added by the imports':<40}{previous - start:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
