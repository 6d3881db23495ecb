"""`switchboard router ...`: data folders are passed in, and mistakes end in one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.cli.main import main


@pytest.mark.parametrize("command", ["train", "eval", "validate", "replay"])
def test_missing_data_dir_is_one_line_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["router", command]) == 2
    out, err = capsys.readouterr()
    expected = f"switchboard: router {command}: --data-dir PATH is required"
    assert err.strip().splitlines() == [expected]
    assert out == ""


def test_wrong_data_dir_names_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["router", "eval", "--data-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "banking77").mkdir()
    assert main(["router", "eval", "--data-dir", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "is not the shared data folder: missing routellm/mmlu" in lines[0]
    assert "Traceback" not in lines[0]


def test_train_without_numpy_says_install_the_extra(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # A None entry in sys.modules makes `import numpy` raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "numpy", None)
    monkeypatch.delitem(sys.modules, "routing.training.fit", raising=False)
    code = main(["router", "train", "--data-dir", str(data_dir), "--out", str(tmp_path / "m.json")])
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "install switchboard[train]" in lines[0]
    assert not (tmp_path / "m.json").exists()


def test_router_and_learning_do_not_import_the_training_stack() -> None:
    code = (
        "import sys, adapters.cli.commands.router, routing.learning, routing.calibration; "
        "print(sorted(m for m in ('numpy', 'scipy') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_nothing_in_the_package_points_outside_it() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in [root / "adapters/cli/commands/router.py", *root.glob("routing/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "shared/data" not in text and "parents[2]" not in text, path


def test_replay_on_real_labels_prints_the_deployed_apgr(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["router", "replay", "--data-dir", str(data_dir), "--dataset", "gsm8k", "--seeds", "1"]
    assert main([*args, "--labels", "150"]) == 0
    out = capsys.readouterr().out
    assert "gsm8k held-out questions (258), all subjects, 150 labels" in out
    assert "adopted 0/1" in out and "adopted runs where APGR fell: 0/0" in out


def test_replay_with_too_few_unseen_questions_is_one_line_and_exit_2(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["router", "replay", "--data-dir", str(data_dir), "--dataset", "arena", "--seeds", "1"]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "300 labels asked for" in lines[0]
