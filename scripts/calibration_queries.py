"""Write a calibration sample of real support-style traffic as JSONL ({"id", "text"} lines).

The sample: customer messages from banking77 (CC-BY-4.0) and clinc150 (CC-BY-3.0, including its
out-of-scope queries), real Chatbot Arena prompts (Apache-2.0), the support messages written for
the analyzer (routing/training/data/support_labelled.jsonl: FAQs, how-tos and troubleshooting) and
Switchboard's own demo conversations. Seeded, so the same command writes the same file.

    .venv/bin/python scripts/calibration_queries.py --data-dir ../shared/data \
        --out var/calibration.jsonl
    .venv/bin/switchboard router calibrate --queries var/calibration.jsonl \
        --premium-share 0.2 --budget-share 0.5 --routing-file routing/default_routing.toml
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

from adapters.cli.demo import load_conversations


def sample(data_dir: Path, seed: int, per_source: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    banking = [r["text"] for r in csv.DictReader((data_dir / "banking77/test.csv").open())]
    clinc = [q for q, _ in json.loads((data_dir / "clinc150/data_full.json").read_text())["test"]]
    clinc += [
        q for q, _ in json.loads((data_dir / "clinc150/data_full.json").read_text())["oos_test"]
    ]
    arena = [
        r["prompt"]
        for r in csv.DictReader((data_dir / "arena_hard_rated/arena_prompts_rated.csv").open())
    ]
    demo = [m for c in load_conversations() for m in c.messages]
    root = Path(__file__).resolve().parents[1]
    support_file = root / "routing" / "training" / "data" / "support_labelled.jsonl"
    support = [json.loads(line)["text"] for line in support_file.open() if line.strip()]
    items: list[dict[str, str]] = []
    for name, texts in (
        ("banking77", banking),
        ("clinc150", clinc),
        ("arena", arena),
        ("support", support),
        ("demo", demo),
    ):
        chosen = texts if len(texts) <= per_source else rng.sample(texts, per_source)
        items += [{"id": f"{name}-{i}", "text": t} for i, t in enumerate(chosen)]
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("var/calibration.jsonl"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-source", type=int, default=220)
    args = parser.parse_args()
    items = sample(args.data_dir, args.seed, args.per_source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} queries to {args.out}")


if __name__ == "__main__":
    main()
