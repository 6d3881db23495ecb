"""Who may read a web endpoint: loopback only, or anyone holding the configured token.

The rule for every port Switchboard opens (the dashboard, /metrics and /healthz): it binds
127.0.0.1 unless configured otherwise, and an address other than loopback is refused at start-up
unless a token is set. With a token set, every request needs it, on any address: as
`Authorization: Bearer TOKEN` (scripts, Prometheus' `authorization` block) or as the password of
HTTP basic auth with any user name (a browser asks for it). Compared in constant time; the token
is a SecretStr from the settings and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import SecretStr

from bot.errors import ConfigError

log = logging.getLogger(__name__)

def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and "localhost"; any other name or address counts as reachable."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Access:
    host: str
    token: SecretStr | None = None
    realm: str = "Switchboard"

    @classmethod
    def checked(cls, host: str, token: SecretStr | None, *, setting: str, realm: str) -> Access:
        """The access rule for one listener; ConfigError (exit 2) when it would be left open.

        `setting` is the settings prefix (DASHBOARD, METRICS) named in the message.
        """
        secret = token.get_secret_value() if token is not None else ""
        if not is_loopback(host) and not secret:
            raise ConfigError(
                f"{setting}_HOST={host} is reachable from other machines: set {setting}_TOKEN "
                f"(a long random string) or bind {setting}_HOST=127.0.0.1"
            )
        return cls(host, token if secret else None, realm)

    def allows(self, authorization: str | None) -> bool:
        if self.token is None:
            return True
        if not authorization:
            return False
        scheme, _, value = authorization.partition(" ")
        given = value.strip()
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(given, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            given = decoded.partition(":")[2]
        elif scheme.lower() != "bearer":
            return False
        expected = self.token.get_secret_value().encode("utf-8")
        return hmac.compare_digest(given.encode("utf-8"), expected)

    def middleware(self) -> Middleware:
        @web.middleware
        async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not self.allows(request.headers.get("Authorization")):
                # The remote address helps spot a scanner; what was sent is never logged.
                log.warning("refused %s %s from %s: no valid token", request.method,
                            request.path, request.remote)  # fmt: skip
                return web.Response(
                    status=401,
                    text="401: this endpoint needs its token (Authorization: Bearer TOKEN, or "
                    "basic auth with the token as password).\n",
                    headers={"WWW-Authenticate": f'Basic realm="{self.realm}", charset="UTF-8"'},
                )
            return await handler(request)

        return require_token
