"""Word lists behind the analyzer's hand features (kept apart so the extractor stays readable).

Lists are lower-case whole tokens as produced by `analyzer_features.tokens`. They name kinds of
problems, not products, so they carry over to support traffic the bot has never seen.
"""

from __future__ import annotations


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Multi-step cues in maths word problems: each one usually adds an arithmetic step.
STEP_CUES = _words("then each total remaining twice half per every after left rest more less times")

# Integration, security and infrastructure topics: support questions about these need context
# and reasoning a budget model tends to lack.
TECH_TOPICS = _words(
    """
    sso saml oauth oidc scim okta azure ldap webhook webhooks api sdk token tokens certificate
    cert tls ssl encryption kms gdpr soc dns dkim spf dmarc ip allowlist allowlisting proxy nginx
    kubernetes k8s terraform integration integrations sync syncs export exports replication
    latency timeout timeouts permissions permission audit security breach leaked mfa 2fa session
    sessions cookie cookies cors database pool index cache caching websocket websockets bigquery
    s3 iam salesforce zapier jira oom memory cpu throttle throttling pagination idempotency
    """
)

# Troubleshooting cues: contrasts ("only for", "but"), changes over time ("since", "started")
# and symptoms ("duplicate", "missing", "intermittent"). Several together = a diagnosis task.
SYMPTOM_CUES = _words(
    """
    only intermittent intermittently sometimes randomly stopped started since after suddenly
    but however although though mismatch different differ duplicate duplicates twice missing
    stale inconsistent fails failing failed broken loops drops drop spike spikes slower still
    anymore
    """
)

# Asking for reasoning rather than a fact.
REASONING_VERBS = _words(
    """
    explain explanation compare contrast prove proof analyze analyse analysis debug why derive
    evaluate troubleshoot design optimize optimise implement calculate justify diagnose refactor
    architecture tradeoffs
    """
)

# Short questions with these words are usually FAQs (hours, prices, passwords).
FAQ_WORDS = _words(
    """
    hours hour open opening price prices pricing cost fee fees when where much address phone
    reset password refund cancel balance
    """
)

# Messages made only of these words (6 or fewer, no "?") just acknowledge an answer.
ACK_WORDS = _words(
    """
    thanks thank thx ty you ok okay k kk great cool perfect got it awesome nice cheers that
    works worked solved sounds good appreciate appreciated much so lol yes yep sure fine all set
    now helps helped super merci gracias danke a lot very many np
    """
)
