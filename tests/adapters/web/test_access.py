"""Who may read /metrics, /healthz and the dashboard: loopback by default, a token otherwise."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from adapters.services import services
from adapters.web.access import Access, is_loopback
from bot.errors import ConfigError
from tests.adapters.web.serving import free_port, serving
from tests.conftest import Database, MakeApp
from tests.http import http_client


def listening_hosts(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port`, read from the kernel's table
    (Linux; elsewhere {"127.0.0.1"}, so the check passes vacuously off Linux only)."""
    if not Path("/proc/net/tcp").exists():
        return {"127.0.0.1"}
    found = set()
    for name, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        path = Path(name)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(".".join(str(b) for b in reversed(raw)))
                else:
                    words = [raw[i : i + 4][::-1].hex() for i in range(0, 16, 4)]
                    found.add(":".join(words))
    return found


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses_need_no_token(host: str) -> None:
    assert is_loopback(host)
    assert Access.checked(host, None, setting="DASHBOARD", realm="r").token is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "dashboard.example.com"])
@pytest.mark.parametrize("setting", ["DASHBOARD", "METRICS"])
def test_any_other_address_needs_a_token(host: str, setting: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Access.checked(host, None, setting=setting, realm="r")
    assert str(refused.value) == (
        f"{setting}_HOST={host} is reachable from other machines: set {setting}_TOKEN "
        f"(a long random string) or bind {setting}_HOST=127.0.0.1"
    )
    with pytest.raises(ConfigError):
        Access.checked(host, SecretStr(""), setting=setting, realm="r")
    assert Access.checked(host, SecretStr("t0ken"), setting=setting, realm="r").token is not None


def test_a_token_is_taken_as_bearer_or_as_the_basic_auth_password() -> None:
    access = Access("127.0.0.1", SecretStr("s3cret"))

    def basic(user_password: bytes) -> str:
        return "Basic " + base64.b64encode(user_password).decode()

    assert access.allows("Bearer s3cret") and access.allows("bearer s3cret")
    assert access.allows(basic(b"anyone:s3cret")) and access.allows(basic(b":s3cret"))
    for header in (None, "", "Bearer", "Bearer s3cre", "Bearer s3cret2", "Token s3cret",
                   basic(b"s3cret"), basic(b"s3cret:x"), "Basic !!!", basic(b"\xff:s3cret"),
                   "s3cret"):  # fmt: skip
        assert not access.allows(header), header
    assert Access("127.0.0.1").allows(None)  # no token configured: loopback only, open
    assert "s3cret" not in repr(access)


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
async def test_metrics_and_healthz_bind_loopback_by_default(
    sqlite_db: Database, make_app: MakeApp, path: str
) -> None:
    port = free_port()
    app = await make_app(sqlite_db, metrics_port=port)
    async with serving(services(app)["metrics"], port, path) as base:
        assert listening_hosts(port) == {"127.0.0.1"}
        async with http_client(base_url=base) as client:
            assert (await client.get(path)).status_code == 200


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
async def test_metrics_and_healthz_with_a_token_refuse_requests_without_it(
    sqlite_db: Database, make_app: MakeApp, path: str
) -> None:
    port = free_port()
    app = await make_app(sqlite_db, metrics_port=port, metrics_token="scrape-token-42")
    async with (
        serving(services(app)["metrics"], port, path) as base,
        http_client(base_url=base) as client,
    ):
        refused = await client.get(path)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith('Basic realm="Switchboard')
        assert "scrape-token-42" not in refused.text
        wrong = await client.get(path, headers={"Authorization": "Bearer scrape-token-4"})
        assert wrong.status_code == 401
        bearer = await client.get(path, headers={"Authorization": "Bearer scrape-token-42"})
        assert bearer.status_code == 200
        basic = await client.get(path, auth=httpx.BasicAuth("prometheus", "scrape-token-42"))
        assert basic.status_code == 200


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
async def test_metrics_on_a_public_address_without_a_token_refuse_to_start(
    sqlite_db: Database, make_app: MakeApp, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    app = await make_app(sqlite_db, metrics_port=free_port(), metrics_host="0.0.0.0")
    with pytest.raises(ConfigError, match=r"METRICS_HOST=0\.0\.0\.0 .* set METRICS_TOKEN"):
        services(app)
    public = await make_app(sqlite_db, metrics_port=free_port(), metrics_host="0.0.0.0",
                            metrics_token="scrape-token-42")  # fmt: skip
    assert "metrics" in services(public)
    assert "scrape-token-42" not in caplog.text


async def test_run_serves_the_dashboard_only_with_a_port_and_refuses_it_open(
    sqlite_db: Database, make_app: MakeApp
) -> None:
    assert "dashboard" not in services(await make_app(sqlite_db))
    port = free_port()
    app = await make_app(sqlite_db, dashboard_port=port)
    async with serving(services(app)["dashboard"], port) as base:
        assert listening_hosts(port) == {"127.0.0.1"}
        async with http_client(base_url=base) as client:
            assert (await client.get("/")).status_code == 200  # loopback, no token: open
    exposed = await make_app(sqlite_db, dashboard_port=port, dashboard_host="::")
    with pytest.raises(ConfigError, match=r"DASHBOARD_HOST=:: .* set DASHBOARD_TOKEN"):
        services(exposed)
