"""Discord adapter: help channels, forum posts, mentions and DMs answered by the engine."""
