"""Limits: rate limits per IP, session and user; task quotas per owner class; fair dispatch.
See docs/limits.md and ADR 5."""
