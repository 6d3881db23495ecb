"""Slack, checked live: the bot token (`auth.test`) and the scopes the manifest asks for, the
app-level token (`apps.connections.open`, and for `doctor` the Socket Mode websocket's hello),
and the digest channel (`conversations.info`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError

from adapters.findings import Finding, failed, passed
from adapters.slack.config import SlackConfig, web_client
from adapters.slack.reply import SLACK_ERRORS

MANIFEST = Path(__file__).with_name("manifest.yaml")
SOCKET_HELLO_TIMEOUT_S = 10.0
# auth.test / apps.connections.open errors that no retry will fix.
BAD_TOKEN = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "missing_scope",
        "invalid_token_type",
    }
)


def manifest_scopes(text: str | None = None) -> frozenset[str]:
    """The bot scopes listed under `oauth_config: scopes: bot:` in the manifest."""
    lines = (MANIFEST.read_text() if text is None else text).splitlines()
    scopes: set[str] = set()
    inside, indent = False, 0
    for line in lines:
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped.strip():
            continue
        depth = len(stripped) - len(stripped.lstrip())
        if stripped.strip() == "bot:":
            inside, indent = True, depth
        elif inside and depth > indent and stripped.strip().startswith("- "):
            scopes.add(stripped.strip()[2:].strip())
        elif inside:
            inside = False
    return frozenset(scopes)


async def check_slack(
    config: SlackConfig, *, digest_channel: str = "", connect_socket: bool = False
) -> list[Finding]:
    client = web_client(config.bot_token, config.api_url)
    try:
        auth = await client.auth_test()
    except SlackApiError as error:
        code = error_code(error)
        return [
            failed(
                "Slack",
                f"auth.test refused SLACK_BOT_TOKEN ({code})",
                "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
                fatal=True,
            )
        ]
    except SLACK_ERRORS as error:
        return [_unreachable(config.api_url, error)]
    found = [
        passed(
            "Slack",
            f"bot @{auth.get('user')} in workspace {auth.get('team')} ({auth.get('team_id')})",
        )
    ]
    granted = auth.headers.get("x-oauth-scopes") or auth.headers.get("X-OAuth-Scopes")
    if granted is not None:
        missing = manifest_scopes() - {s.strip() for s in str(granted).split(",")}
        if missing:
            found.append(
                failed(
                    "Slack scopes",
                    f"the bot token lacks {', '.join(sorted(missing))}",
                    "add them under OAuth & Permissions (or re-create the app from "
                    "adapters/slack/manifest.yaml) and reinstall the app",
                )
            )
        else:
            found.append(passed("Slack scopes", "every scope the manifest asks for"))
    if config.app_token is not None:
        found.append(await _socket_mode(config, connect=connect_socket))
    else:
        found.append(
            passed(
                "Slack HTTP mode",
                f"POST /slack/events on port {config.http_port}, "
                "verified with SLACK_SIGNING_SECRET",
            )
        )
    if digest_channel:
        found.append(await _digest_channel(config, digest_channel))
    return found


def error_code(error: SlackApiError) -> str:
    """Slack's `error` field, or the HTTP status when the answer was not Web API JSON."""
    data = error.response.data
    if isinstance(data, dict):
        return str(data.get("error", "error"))
    return f"HTTP {error.response.status_code}"


def _unreachable(api_url: str, error: BaseException) -> Finding:
    return failed(
        "Slack",
        f"cannot reach {api_url} ({type(error).__name__}: {error})",
        "check the network (and SLACK_API_URL)",
        fatal=True,
    )


async def _socket_mode(config: SlackConfig, *, connect: bool) -> Finding:
    assert config.app_token is not None
    client = web_client(config.app_token, config.api_url)
    try:
        opened = await client.apps_connections_open(app_token=config.app_token.get_secret_value())
    except SlackApiError as error:
        code = error_code(error)
        return failed(
            "Socket Mode",
            f"apps.connections.open refused SLACK_APP_TOKEN ({code})",
            "generate an app-level token (xapp-…) with connections:write under Basic "
            "Information → App-Level Tokens, and turn Socket Mode on",
            fatal=code in BAD_TOKEN,
        )
    except SLACK_ERRORS as error:
        return _unreachable(config.api_url, error)
    if not connect:
        return passed("Socket Mode", "SLACK_APP_TOKEN accepted")
    try:
        async with (
            aiohttp.ClientSession() as session,
            asyncio.timeout(SOCKET_HELLO_TIMEOUT_S),
            session.ws_connect(str(opened["url"])) as ws,
        ):
            hello = await ws.receive_json()
    except (aiohttp.ClientError, TimeoutError, ValueError, TypeError) as error:
        return failed(
            "Socket Mode",
            f"the websocket did not open ({type(error).__name__})",
            "check that outbound websockets to Slack are allowed",
        )
    if not isinstance(hello, dict) or hello.get("type") != "hello":
        return failed(
            "Socket Mode",
            f"no hello on the websocket (got {str(hello)[:80]})",
            "turn Socket Mode on in the app settings",
        )
    return passed("Socket Mode", "connected (hello received)")


async def _digest_channel(config: SlackConfig, channel: str) -> Finding:
    client = web_client(config.bot_token, config.api_url)
    try:
        info = await client.conversations_info(channel=channel)
    except SlackApiError as error:
        code = error_code(error)
        fix = {
            "channel_not_found": "set DIGEST_SLACK_CHANNEL to a channel id (C…) the bot can see",
            "missing_scope": "add channels:read and groups:read (see the manifest) and reinstall",
        }.get(code, "check DIGEST_SLACK_CHANNEL")
        return failed("digest channel", f"Slack {channel}: {code}", fix)
    except SLACK_ERRORS as error:
        return _unreachable(config.api_url, error)
    details = info.get("channel") or {}
    name = f"#{details.get('name', channel)}"
    if details.get("is_member") is False:
        return failed(
            "digest channel",
            f"Slack {name}: the bot is not a member",
            f"/invite @Switchboard in {name}",
        )
    return passed("digest channel", f"Slack {name}")
