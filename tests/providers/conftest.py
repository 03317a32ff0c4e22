"""Emulator fixtures for the remote providers: each test gets a fresh, real HTTP server; the
fixture fails the test if the emulator itself raised, and leaves no fault unconsumed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import pytest

from support.emulators import Emulator
from support.emulators.dashscope_server import DashScopeEmulator
from support.emulators.openai_server import OpenAIEmulator
from support.emulators.volcengine_server import VolcengineEmulator

E = TypeVar("E", bound=Emulator)


def _serve(emulator: E) -> Iterator[E]:
    with emulator:
        yield emulator
    assert not emulator.errors, f"the emulator failed: {emulator.errors!r}"
    assert emulator.pending_faults == 0, "a queued fault was never triggered"


@pytest.fixture
def openai_emulator() -> Iterator[OpenAIEmulator]:
    yield from _serve(OpenAIEmulator())


@pytest.fixture
def dashscope_emulator() -> Iterator[DashScopeEmulator]:
    yield from _serve(DashScopeEmulator())


@pytest.fixture
def volcengine_emulator() -> Iterator[VolcengineEmulator]:
    yield from _serve(VolcengineEmulator())
