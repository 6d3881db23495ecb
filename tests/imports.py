"""What a fresh interpreter has imported after running some code: for the tests that keep
heavy or unused libraries out of a process (start-up time, idle RSS)."""

from __future__ import annotations

import json
import subprocess
import sys


def modules_after(code: str) -> set[str]:
    """Every module in `sys.modules` once `code` has run in a new interpreter."""
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))
