"""Where a newly held task will start: every owner's next slots are found in one replay (with
phantom tasks for all owners at once) and must equal the replay made for that owner alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from atelier.limits.positions import FAR, Replay, Row, mark_of, replay

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def alone(rows: list[Row], cap: int, owner: str) -> list[int]:
    """The definition: replay the queue with phantom tasks in this owner's backlog only."""
    count = 2 * max(2, cap)
    phantoms = [(f"\0{k}", owner, None, FAR + timedelta(microseconds=k)) for k in range(count)]
    placed = replay(rows + phantoms, cap)
    return [placed[p[0]] for p in phantoms]


@st.composite
def queues(draw: st.DrawFn) -> tuple[list[Row], int, list[str]]:
    owners = [f"owner-{i}" for i in range(draw(st.integers(1, 6)))]
    rows: list[Row] = []
    for k in range(draw(st.integers(0, 60))):
        created = T0 + timedelta(seconds=k)
        sent = created if draw(st.booleans()) else None
        rows.append((f"task-{k}", draw(st.sampled_from(owners)), sent, created))
    return rows, draw(st.integers(0, 4)), owners


@settings(max_examples=300, deadline=None)
@given(queues())
def test_every_owners_next_slots_match_their_own_replay(
    queue: tuple[list[Row], int, list[str]],
) -> None:
    rows, cap, owners = queue
    together = Replay(0.0, rows, cap, replay(rows, cap), mark_of(rows))
    for owner in [*owners, "a-newcomer"]:
        assert together._next_of(owner) == alone(rows, cap, owner), owner


def test_a_long_backlog_interleaves_then_runs_alone() -> None:
    # ten owners, four sent and fifty held each, cap 4: o3's next tasks come after everyone's
    rows: list[Row] = []
    for i in range(54):
        for o in range(10):
            k = i * 10 + o
            created = T0 + timedelta(seconds=k)
            rows.append((f"t{k}", f"o{o}", created if i < 4 else None, created))
    together = Replay(0.0, rows, 4, replay(rows, 4), mark_of(rows))
    assert together._next_of("o3") == list(range(540, 548))  # the queue has drained by then
    assert together._next_of("o3") == alone(rows, 4, "o3")
