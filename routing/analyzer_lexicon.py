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
