"""The public datasets the analyzer is trained and measured on, read in place from a data folder
(the shared data folder: see its README and docs/routing.md). Standard library only, so
evaluation and replays work without the training extra.

Labels follow the folder's README: MMLU/GSM8K "needs strong" = strong correct and weak wrong;
arena prompts are hard when their mean judge score is below the median; banking77 and clinc150
customer queries are weakly labelled "easy" to teach the model what support FAQs look like;
routing/training/data/support_labelled.jsonl (hand-labelled support messages) adds
easy/medium/hard.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HELDOUT_PERCENT = 20
# The hand-written support set is small, so a larger share is kept for measuring it.
SUPPORT_HELDOUT_PERCENT = 30
SUPPORT_PATH = Path(__file__).with_name("data") / "support_labelled.jsonl"
SUPPORT_LABELS = {"easy": 0.0, "medium": 0.5, "hard": 1.0}
# Support FAQs are plentiful and easy; cap them so they teach "FAQ = cheap" without drowning
# the benchmark signal.
FAQ_SAMPLES_PER_SOURCE = 1500
REQUIRED = (
    "routellm/mmlu",
    "routellm/gsm8k/gsm8k_responses.csv",
    "arena_hard_rated/arena_prompts_rated.csv",
    "banking77/train.csv",
    "banking77/test.csv",
    "clinc150/data_full.json",
)


class DataDirError(ValueError):
    """The data folder is missing or is not the shared data folder; the message says which."""


def check_data_dir(data_dir: Path) -> Path:
    if not data_dir.is_dir():
        raise DataDirError(f"data folder {data_dir} does not exist (pass --data-dir PATH)")
    missing = [part for part in REQUIRED if not (data_dir / part).exists()]
    if missing:
        raise DataDirError(
            f"{data_dir} is not the shared data folder: missing {', '.join(missing)}"
        )
    return data_dir


@dataclass(frozen=True)
class Example:
    """One prompt with the quality each tier would get (1 = correct) and its training label."""

    text: str
    source: str
    weak_quality: float
    strong_quality: float
    label: float
    group: str = ""  # MMLU subject, support level; defaults to the source

    @property
    def heldout(self) -> bool:
        return is_heldout(self.text, self.source)

    @property
    def kind(self) -> str:
        return self.group or self.source


def is_heldout(text: str, source: str = "") -> bool:
    """Deterministic split by content hash, so the held-out part is stable across runs/machines."""
    digest = hashlib.sha256(text.encode("utf-8", "replace")).digest()
    share = SUPPORT_HELDOUT_PERCENT if source == "support" else HELDOUT_PERCENT
    return int.from_bytes(digest[:8], "big") % 100 < share


def _contaminated(folder: Path) -> set[str]:
    path = folder / "contaminated_prompts.jsonl"
    if not path.exists():
        return set()
    with path.open(encoding="utf-8") as fh:
        return {json.loads(line)["train_prompt"].strip() for line in fh if line.strip()}


def _pair_examples(path: Path, source: str, skip: set[str], group: str = "") -> list[Example]:
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        next(rows)
        for row in rows:
            prompt = row[0]
            if prompt.strip() in skip:
                continue
            weak, strong = row[1] == "True", row[2] == "True"
            out.append(
                Example(
                    prompt, source, float(weak), float(strong), float(strong and not weak), group
                )
            )
    return out


def load_mmlu(data_dir: Path) -> list[Example]:
    folder = data_dir / "routellm" / "mmlu"
    skip = _contaminated(folder)
    return [
        ex
        for p in sorted(folder.glob("*.csv"))
        for ex in _pair_examples(p, "mmlu", skip, p.stem.removeprefix("mmlu_"))
    ]


def load_gsm8k(data_dir: Path) -> list[Example]:
    folder = data_dir / "routellm" / "gsm8k"
    return _pair_examples(folder / "gsm8k_responses.csv", "gsm8k", _contaminated(folder))


def arena_scores(data_dir: Path) -> list[tuple[str, float]]:
    with (data_dir / "arena_hard_rated" / "arena_prompts_rated.csv").open(encoding="utf-8") as fh:
        return [(r["prompt"], float(r["mean_judge_score"])) for r in csv.DictReader(fh)]


def load_arena(data_dir: Path) -> list[Example]:
    """No per-model correctness here: a hard prompt counts as one only the strong tier answers."""
    rows = arena_scores(data_dir)
    median = statistics.median(score for _, score in rows)
    return [
        Example(text, "arena", 0.0 if score < median else 1.0, 1.0, float(score < median))
        for text, score in rows
    ]


def load_intents(data_dir: Path, source: str) -> dict[str, list[str]]:
    """Intent -> its distinct wordings, for "banking77" (train + test) or "clinc150" (all
    in-scope parts)."""
    found: defaultdict[str, set[str]] = defaultdict(set)
    if source == "banking77":
        for name in ("train.csv", "test.csv"):
            with (data_dir / "banking77" / name).open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    found[row["category"]].add(row["text"])
    elif source == "clinc150":
        with (data_dir / "clinc150" / "data_full.json").open(encoding="utf-8") as fh:
            parts = json.load(fh)
        for part in ("train", "val", "test"):
            for text, intent in parts[part]:
                found[intent].add(text)
    else:
        raise ValueError(f"unknown intent set {source!r} (banking77 or clinc150)")
    return {intent: sorted(texts) for intent, texts in sorted(found.items())}


def load_faq(data_dir: Path, seed: int) -> list[Example]:
    """Real support traffic, weakly labelled easy (both tiers assumed to answer correctly)."""
    banking = [text for texts in load_intents(data_dir, "banking77").values() for text in texts]
    with (data_dir / "clinc150" / "data_full.json").open(encoding="utf-8") as fh:
        clinc = [pair[0] for part in json.load(fh).values() for pair in part]
    rng = random.Random(seed)
    out = []
    for source, texts in (("banking77", banking), ("clinc150", clinc)):
        unique = sorted(set(texts))
        for text in rng.sample(unique, min(FAQ_SAMPLES_PER_SOURCE, len(unique))):
            out.append(Example(text, source, 1.0, 1.0, 0.0))
    return out


def load_support(path: Path = SUPPORT_PATH) -> list[Example]:
    """Hand-labelled support messages: hard = 1, medium = 0.5, easy = 0 (no model outcomes)."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                label = SUPPORT_LABELS[row["level"]]
                out.append(
                    Example(
                        row["text"], "support", 1.0 - label, 1.0, label, f"support_{row['level']}"
                    )
                )
    return out


def load_examples(data_dir: Path, seed: int = 0) -> list[Example]:
    check_data_dir(data_dir)
    return (
        load_mmlu(data_dir)
        + load_gsm8k(data_dir)
        + load_arena(data_dir)
        + load_faq(data_dir, seed)
        + load_support()
    )
