"""Who the visitor is: a signed cookie, read without any session store.

The cookie (``__Host-u`` by default) is
``URLSafeTimedSerializer(keys, salt="sitegen.user.v1").dumps({"u": id, "n": name, "g": generation})``
from itsdangerous: base64url JSON, a timestamp and an HMAC-SHA1 signature,
joined by dots. Anything else that can produce that (the site's own login
app) can issue it; the README gives the recipe.

- **Salt per purpose.** The CSRF token is signed with another salt, so neither
  can stand in for the other.
- **max_age on every read.** An expired cookie is anonymous.
- **Key rotation.** Keys are listed oldest first: the newest signs, all verify.
- **Sign out everywhere.** The payload carries the user's generation; the
  store holds the current one, and a cookie from an older one is anonymous.
- The payload is readable, not secret: ids and display names only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import itsdangerous

from sitegen.bounded import shown
from sitegen.errors import ConfigError, FragmentError, Problem

USER_SALT = "sitegen.user.v1"
CSRF_SALT = "sitegen.csrf.v1"
#: Shorter keys are refused: HMAC is only as strong as its key.
MIN_KEY_LENGTH = 32
USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
MAX_NAME = 100


@dataclass(frozen=True)
class User:
    id: str
    name: str
    generation: int


def keys_from_environment(environ: Mapping[str, str], variable: str) -> tuple[str, ...]:
    """The signing keys, oldest first, from one environment variable (missing or short:
    a configuration error, exit 2)."""
    raw = environ.get(variable, "")
    keys = tuple(key for key in re.split(r"[\s,]+", raw) if key)
    fix = (
        f"set {variable} to one or more secret keys of {MIN_KEY_LENGTH}+ characters, oldest first, "
        "e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )
    if not keys:
        raise ConfigError.at(f"${variable}", "is not set, so cookies can be neither signed nor checked", fix)
    short = [index for index, key in enumerate(keys) if len(key) < MIN_KEY_LENGTH]
    if short:
        raise ConfigError.at(
            f"${variable}",
            f"{'key' if len(short) == 1 else 'keys'} number {', '.join(str(i + 1) for i in short)} {'is' if len(short) == 1 else 'are'} shorter than {MIN_KEY_LENGTH} characters",
            fix,
        )
    return keys


class IdentityCodec:
    """Mints and reads the identity cookie and the CSRF token, on an injected clock."""

    def __init__(self, keys: Sequence[str], max_age: float, clock: Callable[[], float] = time.time) -> None:
        if not keys:
            raise FragmentError.at("cookie keys", "none given", "pass at least one key")
        self.max_age = max_age
        self._user = self._serializer(keys, USER_SALT, clock)
        self._csrf = self._serializer(keys, CSRF_SALT, clock)

    @staticmethod
    def _serializer(keys: Sequence[str], salt: str, clock: Callable[[], float]) -> itsdangerous.URLSafeTimedSerializer:
        serializer = itsdangerous.URLSafeTimedSerializer(list(keys), salt=salt)
        # The timestamp signer reads the clock on sign and on max_age checks;
        # give it ours, so tests can move time instead of waiting.
        signer_class = serializer.signer

        class ClockedSigner(signer_class):  # type: ignore[misc, valid-type]
            def get_timestamp(self) -> int:
                return int(clock())

        serializer.signer = ClockedSigner
        return serializer

    def mint(self, user: User) -> str:
        _check_user(user)
        return self._user.dumps({"u": user.id, "n": user.name, "g": user.generation})

    def read(self, value: str | None) -> User | None:
        """The user a cookie names, or None when it is missing, forged, expired or malformed."""
        payload = self._verified(self._user, value, 4096)
        if not isinstance(payload, dict) or set(payload) != {"u", "n", "g"}:
            return None
        user_id, name, generation = payload["u"], payload["n"], payload["g"]
        if not (isinstance(user_id, str) and isinstance(name, str) and type(generation) is int):
            return None
        user = User(user_id, name, generation)
        try:
            _check_user(user)
        except FragmentError:
            return None
        return user

    def csrf_token(self, user: User) -> str:
        return self._csrf.dumps([user.id, user.generation])

    def csrf_ok(self, token: str | None, user: User) -> bool:
        return bool(self._verified(self._csrf, token, 1024) == [user.id, user.generation])

    def _verified(self, serializer: itsdangerous.URLSafeTimedSerializer, value: str | None, longest: int) -> Any:
        """The payload of a value signed for this purpose and younger than max_age, else None."""
        if not value or len(value) > longest:
            return None
        try:
            # itsdangerous compares ages as floats; its annotation says int only.
            return serializer.loads(value, max_age=self.max_age)  # type: ignore[arg-type]
        except (itsdangerous.BadData, ValueError, UnicodeDecodeError):
            return None


def user_id_problem(user_id: str, where: str = "user id") -> Problem | None:
    """The one check of a user id against ``USER_ID``, echoing it bounded."""
    if USER_ID.fullmatch(user_id):
        return None
    return Problem(
        where, f"{shown(user_id)} is not an id", "use letters, digits, '.', '_' and '-' (up to 100), starting with a letter or digit"
    )


def _check_user(user: User) -> None:
    problems = []
    if wrong := user_id_problem(user.id):
        problems.append(wrong)
    if not user.name or len(user.name) > MAX_NAME or any(ord(ch) < 32 for ch in user.name):
        problems.append(
            Problem(
                "user name",
                f"{shown(user.name)} is empty, too long or has control characters",
                f"give a display name of 1 to {MAX_NAME} characters",
            )
        )
    if user.generation < 0:
        problems.append(Problem("generation", "is negative", "use 0 or more"))
    if problems:
        raise FragmentError("Cannot put this user in a cookie:", problems)


def cookie_header(name: str, value: str, max_age: float) -> str:
    """The ``Set-Cookie`` value the site's login app sends (``__Host-`` needs Secure, Path=/ and no Domain)."""
    return f"{name}={value}; Max-Age={int(max_age)}; Path=/; Secure; HttpOnly; SameSite=Lax"
