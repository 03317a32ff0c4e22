"""Fixtures of the limits tests: cheap argon2 parameters for the accounts they make, and, on
PostgreSQL, no accounts left over from an earlier test (the first account is the admin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from support.profiles import Profile, make_env

ACCOUNT_TABLES = ("owner_upgrades", "api_keys", "refresh_tokens", "users")


@pytest.fixture(autouse=True)
def _cheap_hashes(_hermetic_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_AUTH__PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("ATELIER_AUTH__PASSWORD_MEMORY_KIB", "1024")
    monkeypatch.setenv("ATELIER_AUTH__PASSWORD_PARALLELISM", "1")


@pytest.fixture
def postgres(postgres: str) -> Iterator[str]:
    engine = create_engine(postgres)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(ACCOUNT_TABLES)} CASCADE"))
    engine.dispose()
    yield postgres


@pytest.fixture
def sqlite(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Profile:
    """The embedded profile only: for what does not depend on the database."""
    return Profile("sqlite", make_env("sqlite", tmp_path, request), monkeypatch)
