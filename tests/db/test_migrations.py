"""Migrations build exactly the schema the models describe, and run both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from atelier.db.engine import build_engine
from atelier.db.migrate import current_tables, downgrade, upgrade
from atelier.db.models import Base
from support.profiles import Profile


def test_models_match_migrations(profile: Profile) -> None:
    upgrade(profile.settings)
    engine = build_engine(profile.settings)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_downgrade_and_upgrade_again(profile: Profile) -> None:
    upgrade(profile.settings)
    assert {"tasks", "task_events", "images"} <= current_tables(profile.settings)
    downgrade(profile.settings, "base")
    assert not {"tasks", "task_events", "images"} & current_tables(profile.settings)
    upgrade(profile.settings)
    assert {"tasks", "task_events", "images"} <= current_tables(profile.settings)


def test_processes_starting_together_migrate_one_after_the_other(profile: Profile) -> None:
    """API replicas and workers all run the migrations at start: concurrent upgrades of an
    empty database must all succeed (an advisory lock serialises them on PostgreSQL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(upgrade, profile.settings) for _ in range(4)]:
            future.result(timeout=120)
    assert {"tasks", "task_events", "images"} <= current_tables(profile.settings)
