from __future__ import annotations

import logging

import pytest

from bot.redaction import MASK, LogRedaction, Redactor
from tests.conftest import MakeSettings

KEY = "sk-live-0123456789"


def test_every_secret_setting_is_known(make_settings: MakeSettings) -> None:
    settings = make_settings(llm_api_key=KEY, slack_bot_token="xoxb-1-2-3", discord_bot_token="d")
    redact = Redactor.from_settings(settings)
    assert KEY in redact.secrets and "xoxb-1-2-3" in redact.secrets
    assert "d" not in redact.secrets  # too short to mask without masking ordinary words
    assert redact(f"Bearer {KEY}!") == f"Bearer {MASK}!"


def test_log_records_of_any_logger_and_their_tracebacks_are_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    redaction = LogRedaction(Redactor([KEY])).install()
    try:
        logging.getLogger("httpcore.http11").debug("headers %s", {"Authorization": KEY})
        try:
            raise ValueError(f"refused {KEY}")
        except ValueError:
            logging.getLogger("slack_sdk").exception("failed with %r", KEY)
    finally:
        redaction.uninstall()
    logging.getLogger("after").warning("not redacted any more: %s", KEY)
    assert KEY not in "".join(f"{r.getMessage()}{r.exc_text}" for r in caplog.records[:2])
    assert MASK in caplog.records[1].exc_text
    assert KEY in caplog.records[2].getMessage()
