"""Start-up cost: `switchboard --help` and `route` import only what they use (bench/ times it),
and the training commands name the extra they need when it is missing."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "httpx", "aiohttp", "slack_bolt", "discord",
         "numpy", "scipy", "matplotlib", "alembic", "prometheus_client", "rich")  # fmt: skip


def imported_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(out.stdout.splitlines()[-1])}


def test_help_imports_none_of_the_heavy_libraries() -> None:
    found = imported_after("from adapters.cli.main import parser\nparser().format_help()")
    assert found.isdisjoint(HEAVY), found & set(HEAVY)


def test_route_imports_no_database_http_or_platform_library() -> None:
    found = imported_after(
        "import contextlib, io\nfrom adapters.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['route', 'hi'])"
    )
    assert found.isdisjoint({"sqlalchemy", "httpx", "aiohttp", "slack_bolt", "discord", "numpy"})


def test_router_train_without_the_extra_names_it() -> None:
    code = ("import sys\nsys.modules['numpy'] = None  # as if the [train] extra were missing\n"
            "from adapters.cli.main import main\nsys.exit(main(['router', 'train']))")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "switchboard: router train and router eval need the training extra (numpy, scipy): "
        "pip install 'switchboard[train]' (from a checkout: pip install -e '.[train]')"
    ]
