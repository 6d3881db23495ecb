"""Size of a runtime install: a fresh venv, `pip install <project>` (no extras), site-packages size.

Run: python bench/bench_install.py /work/old [--top 10] [--keep DIR]

The venv is created in a temporary directory with this interpreter's `venv` module and removed
afterwards (unless `--keep`). pip uses its usual configuration (PIP_FIND_LINKS, the index), so
the figure is what `pip install .` gives a user on this machine. Reported: the whole
site-packages in MB (1 MB = 10^6 bytes; apparent file sizes, and the blocks `du` counts), the
same without pip and setuptools (which every venv carries), and the largest distributions, each
sized from the files its `RECORD` lists (so `numpy.libs/` counts towards numpy).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VENV_TOOLS = {"pip", "setuptools", "wheel"}
SKIP = (".venv", ".git", "var", "build", "*.egg-info", "__pycache__", ".*_cache")
MB = 1_000_000


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def tree_size(root: Path) -> tuple[int, int]:
    """(apparent bytes, bytes on disk as `du` counts them) of the files under `root`."""
    apparent = disk = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                info = path.stat()
                apparent += info.st_size
                disk += info.st_blocks * 512
    return apparent, disk


def distribution_sizes(site: Path) -> dict[str, int]:
    """Bytes per installed distribution, from the files listed in each dist-info RECORD."""
    sizes: dict[str, int] = {}
    for record in site.glob("*.dist-info/RECORD"):
        name = record.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        total = 0
        with record.open(newline="") as rows:
            for row in csv.reader(rows):
                if not row:
                    continue
                path = (site / row[0]).resolve()
                if path.is_file():
                    total += path.stat().st_size
        sizes[name] = total
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("project", type=Path, help="project directory (holds pyproject.toml)")
    parser.add_argument("--top", type=int, default=10, help="largest distributions to list")
    parser.add_argument("--keep", type=Path, help="create the venv here and keep it")
    args = parser.parse_args()
    project = args.project.resolve()
    if not (project / "pyproject.toml").is_file():
        parser.error(f"{project} has no pyproject.toml")

    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        venv = args.keep.resolve() if args.keep else Path(tmp) / "venv"
        if venv.exists():
            parser.error(f"{venv} already exists")
        print(f"project: {project}")
        print(f"load average: {loadavg()}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        started = time.perf_counter()
        # Install from a copy of the tree, so the build leaves nothing (build/, *.egg-info)
        # behind in the project; the copy skips the venv, git data, caches and local data.
        source = Path(tmp) / "src"
        shutil.copytree(project, source, ignore=shutil.ignore_patterns(*SKIP))
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             str(source)], capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            print(f"error: pip install failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        print(f"pip install took {time.perf_counter() - started:.0f} s")
        sites = list((venv / "lib").glob("python3*/site-packages"))
        if len(sites) != 1:
            print(f"error: expected one site-packages under {venv / 'lib'}", file=sys.stderr)
            return 1
        site = sites[0]
        total, disk = tree_size(site)
        sizes = distribution_sizes(site)
        tools = sum(size for name, size in sizes.items() if name.lower() in VENV_TOOLS)
        print(f"site-packages: {total / MB:.1f} MB ({len(sizes)} distributions); "
              f"on disk (du): {disk / MB:.1f} MB")  # fmt: skip
        print(f"without pip/setuptools: {(total - tools) / MB:.1f} MB")
        print(f"\ntop {args.top} distributions (MB):")
        for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"  {size / MB:8.1f}  {name}")
        note = "kept" if args.keep else "removed"
        print(f"\nvenv {note}: {venv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
