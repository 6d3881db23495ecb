"""What a live check found: one line of `switchboard doctor`, or a reason `switchboard run`
stops (`fatal`). The checks themselves are in adapters/checks.py and next to each adapter
(adapters/*/check.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    part: str  # what was checked: "LLM", "Slack", "database", ...
    ok: bool
    detail: str  # what we found, safe to print (no secrets)
    fix: str = ""  # what to do about a failure
    fatal: bool = False  # `switchboard run` refuses to start on it

    def line(self) -> str:
        text = f"{'✓' if self.ok else '✗'} {self.part}: {self.detail}"
        return f"{text} → {self.fix}" if self.fix and not self.ok else text

    def sentence(self) -> str:
        """The failure as one `switchboard: ...` line for `run`."""
        return f"{self.part}: {self.detail}" + (f": {self.fix}" if self.fix else "")


def passed(part: str, detail: str) -> Finding:
    return Finding(part, True, detail)


def failed(part: str, detail: str, fix: str = "", *, fatal: bool = False) -> Finding:
    return Finding(part, False, detail, fix, fatal)
