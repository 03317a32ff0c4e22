"""Content safety: NSFW scoring of uploads and outputs, and the prompt filter (docs/safety.md)."""
