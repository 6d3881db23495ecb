"""The Slack adapter: Slack events in, streamed and costed answers out (Bolt async)."""
