"""Slack's request signature, checked over the raw bytes of the body.

slack_sdk's `SignatureVerifier` decodes the body as UTF-8 first, so a body that is not UTF-8
raises before its signature is known; Slack signs bytes, and so does this.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

MAX_AGE_S = 300  # Slack's own rule: older timestamps are replays


def signed(body: bytes, headers: Mapping[str, str], secret: str, now: float | None = None) -> bool:
    """True when `headers` (lower-case names) carry a fresh, valid signature of `body`."""
    stamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (secret and stamp.isascii() and stamp.isdigit() and signature):
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > MAX_AGE_S:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)
