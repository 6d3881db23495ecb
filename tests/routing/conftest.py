"""Shared data for routing tests: ../shared/data read in place (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.analyzer.scorer import QueryAnalyzer
from routing.training.datasets import load_intents

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.exists():
        pytest.skip(f"shared data not found at {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="session")
def base() -> QueryAnalyzer:
    return QueryAnalyzer.load()


@pytest.fixture(scope="session")
def clinc(data_dir: Path) -> dict[str, list[str]]:
    return load_intents(data_dir, "clinc150")


@pytest.fixture(scope="session")
def banking(data_dir: Path) -> dict[str, list[str]]:
    return load_intents(data_dir, "banking77")
