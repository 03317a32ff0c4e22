"""Password hashing: argon2id with the configured cost, rehashed when the cost changes."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from atelier.config import AuthSettings

MIN_LENGTH = 10
MAX_LENGTH = 1024


class Passwords:
    def __init__(self, settings: AuthSettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=max(settings.password_memory_kib, 8 * settings.password_parallelism),
            parallelism=settings.password_parallelism,
            type=Type.ID,
        )
        # verified against when the email is unknown, so that answer takes as long as a
        # wrong password does
        self._dummy = self._hasher.hash("atelier: no such account")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; with no stored hash the work is done all
        the same and the answer is no."""
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
