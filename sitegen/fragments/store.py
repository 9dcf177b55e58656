"""Personal data behind one interface: who follows whom, who attends what.

Two implementations:

- ``SqliteStore`` (the default): one embedded file, no server to run.
- ``RedisStore``, for scale and for several service processes: follows and
  attendees are Redis sets, and "people you follow who attend" is one
  ``SINTER`` per request.

The service asks two questions per request: the user's generation (for
"sign out everywhere"), then everything the attendance fragment shows.
Calls are synchronous and short; the service makes them on its event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from sitegen.bounded import loads_json, read_file_bounded, shown
from sitegen.errors import FragmentError, Problem
from sitegen.fragments.identity import MAX_NAME, USER_ID


@dataclass(frozen=True)
class PersonalData:
    """Everything ``sitegen fragments load`` puts in a store, checked."""

    users: tuple[tuple[str, str], ...]  # (id, display name)
    follows: tuple[tuple[str, str], ...]  # (user, followed id: a user or a person of the archive)
    attendance: tuple[tuple[str, str], ...]  # (user, event id)


@dataclass(frozen=True)
class Attendance:
    """What the attendance fragment shows one visitor about one event."""

    attending: bool
    count: int
    followed_attending: frozenset[str]
    following: frozenset[str]


class PersonalStore(Protocol):
    def generation(self, user: str) -> int: ...
    def sign_out_everywhere(self, user: str) -> int: ...
    def attendance(self, user: str | None, event: str) -> Attendance: ...
    def set_attending(self, user: str, event: str, attending: bool) -> None: ...
    def names(self, ids: Iterable[str]) -> dict[str, str]: ...
    def replace(self, data: PersonalData) -> None: ...
    def holds_data(self) -> bool: ...
    def close(self) -> None: ...


def open_store(spec: str, root: Path) -> PersonalStore:
    """``redis://…`` opens Redis; anything else is an SQLite file relative to ``root``."""
    if urlsplit(spec).scheme in ("redis", "rediss", "unix"):
        return RedisStore(spec)
    return SqliteStore(root / spec)


# --- loading ---------------------------------------------------------------------

#: The largest file ``sitegen fragments load`` reads: 2.5 times the 95 MB of
#: 300,000 users with 2,000,000 follows.
MAX_PERSONAL_FILE_BYTES = 256 * 1024 * 1024
_SECTIONS = {"users": ("id", "name"), "follows": ("user", "follows"), "attendance": ("user", "event")}


def parse_personal_data(data: Any, where: str, *, extra_keys: bool = False) -> PersonalData:
    """Check a document ``{"users": [...], "follows": [...], "attendance": [...]}``.

    Each item is ``{"id", "name"}``, ``{"user", "follows"}`` or ``{"user",
    "event"}``; every problem is collected and reported together. A file must
    hold exactly those keys; API objects may carry more (``extra_keys``), as
    the contract says unknown keys are ignored.
    """
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise FragmentError.at(where, "is not a JSON object", 'write {"users": [...], "follows": [...], "attendance": [...]}')
    for key in sorted(set(data) - set(_SECTIONS)):
        problems.append(Problem(where, f"unknown key {shown(key)}", f"use {', '.join(_SECTIONS)}"))
    rows: dict[str, list[tuple[int, str, str]]] = {}  # (position in the section, first, second)
    for section in _SECTIONS:
        items = data.get(section, [])
        rows[section] = []
        if not isinstance(items, list):
            problems.append(Problem(f"{where}: {section}", "is not a list", "give a list of objects"))
            continue
        for index, item in enumerate(items):
            checked = _check_item(section, item, f"{where}: {section}[{index}]", extra_keys)
            if isinstance(checked, Problem):
                problems.append(checked)
            else:
                rows[section].append((index, *checked))
    problems += _repeated_users(rows["users"], where)
    if problems:
        raise FragmentError(f"{where} cannot be loaded, {len(problems)} problem(s):", problems)
    users, follows, attendance = ([(a, b) for _, a, b in rows[name]] for name in _SECTIONS)
    return PersonalData(tuple(users), tuple(sorted(set(follows))), tuple(sorted(set(attendance))))


def _check_item(section: str, item: Any, path: str, extra_keys: bool) -> tuple[str, str] | Problem:
    """One item of a section: its two values, or the first problem with it."""
    first, second = _SECTIONS[section]
    if not isinstance(item, dict) or not (set(item) == {first, second} or (extra_keys and {first, second} <= set(item))):
        return Problem(path, f"must be an object with exactly {first!r} and {second!r}", f'write {{"{first}": "…", "{second}": "…"}}')
    a, b = item[first], item[second]
    if not (isinstance(a, str) and USER_ID.fullmatch(a)):
        return Problem(path, f"{first} = {shown(a)} is not an id", "use letters, digits, '.', '_' and '-' (up to 100)")
    if section == "users":
        if not (isinstance(b, str) and 0 < len(b) <= MAX_NAME and all(ord(ch) >= 32 for ch in b)):
            return Problem(path, f"name = {shown(b)} is not a display name", f"give 1 to {MAX_NAME} printable characters")
    elif not (isinstance(b, str) and b and len(b) <= 200 and b.isprintable()):
        return Problem(path, f"{second} = {shown(b)} is not an id", "give the id as a string")
    return a, b


def _repeated_users(users: list[tuple[int, str, str]], where: str) -> list[Problem]:
    """A problem for each user id listed again after its first place."""
    problems: list[Problem] = []
    first_at: dict[str, int] = {}
    for index, user, _ in users:
        if user in first_at:
            problems.append(
                Problem(
                    f"{where}: users[{index}]", f"id {shown(user)} appears twice, first at users[{first_at[user]}]", "list each user once"
                )
            )
        first_at.setdefault(user, index)
    return problems


def read_personal_file(path: Path) -> PersonalData:
    fix = f"give a JSON file of at most {MAX_PERSONAL_FILE_BYTES:,} bytes, or load from the API instead"
    try:
        text = read_file_bounded(path, MAX_PERSONAL_FILE_BYTES, str(path), FragmentError, fix)
    except FileNotFoundError:
        raise FragmentError.at(str(path), "does not exist", "give the path of a JSON file to load") from None
    except OSError as exc:
        raise FragmentError.at(str(path), f"cannot be read: {exc.strerror or exc}", "make it a readable file") from None
    data = loads_json(text, str(path), FragmentError, "save it as UTF-8 JSON")
    return parse_personal_data(data, str(path))


# --- SQLite ----------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS generations (user TEXT PRIMARY KEY, generation INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS follows (user TEXT NOT NULL, target TEXT NOT NULL, PRIMARY KEY (user, target)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attendance (event TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (event, user)) WITHOUT ROWID;
"""


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One connection, used from the service's event loop thread (and
            # by tests from theirs), hence check_same_thread=False.
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise FragmentError.at(
                str(path), f"cannot be opened as an SQLite store: {exc}", "point [fragments] store at a writable file, or a redis:// URL"
            ) from None

    def generation(self, user: str) -> int:
        row = self.db.execute("SELECT generation FROM generations WHERE user = ?", (user,)).fetchone()
        return row[0] if row else 0

    def sign_out_everywhere(self, user: str) -> int:
        self.db.execute(
            "INSERT INTO generations (user, generation) VALUES (?, 1) ON CONFLICT (user) DO UPDATE SET generation = generation + 1", (user,)
        )
        return self.generation(user)

    def attendance(self, user: str | None, event: str) -> Attendance:
        count = self.db.execute("SELECT count(*) FROM attendance WHERE event = ?", (event,)).fetchone()[0]
        if user is None:
            return Attendance(False, count, frozenset(), frozenset())
        attending = self.db.execute("SELECT 1 FROM attendance WHERE event = ? AND user = ?", (event, user)).fetchone() is not None
        following = frozenset(row[0] for row in self.db.execute("SELECT target FROM follows WHERE user = ?", (user,)))
        followed_attending = frozenset(
            row[0]
            for row in self.db.execute(
                "SELECT a.user FROM follows f JOIN attendance a ON a.user = f.target AND a.event = ? WHERE f.user = ?",
                (event, user),
            )
        )
        return Attendance(attending, count, followed_attending, following)

    def set_attending(self, user: str, event: str, attending: bool) -> None:
        if attending:
            self.db.execute("INSERT OR IGNORE INTO attendance (event, user) VALUES (?, ?)", (event, user))
        else:
            self.db.execute("DELETE FROM attendance WHERE event = ? AND user = ?", (event, user))

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        return dict(self.db.execute(f"SELECT id, name FROM users WHERE id IN ({marks})", wanted).fetchall())

    def holds_data(self) -> bool:
        """Whether any user, follow or attendance is stored (what ``replace`` would wipe)."""
        tables = ("users", "follows", "attendance")
        return any(self.db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0] for table in tables)

    def replace(self, data: PersonalData) -> None:
        # Generations survive a reload: reloading must never revive a revoked cookie.
        with _transaction(self.db):
            self.db.execute("DELETE FROM users")
            self.db.execute("DELETE FROM follows")
            self.db.execute("DELETE FROM attendance")
            self.db.executemany("INSERT INTO users (id, name) VALUES (?, ?)", data.users)
            self.db.executemany("INSERT INTO follows (user, target) VALUES (?, ?)", data.follows)
            self.db.executemany("INSERT INTO attendance (user, event) VALUES (?, ?)", data.attendance)

    def close(self) -> None:
        self.db.close()


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


# --- Redis -----------------------------------------------------------------------


class RedisStore:
    """Keys, all under ``sitegen:``: ``follows:<user>`` and ``attendees:<event>``
    (sets), ``gen:<user>`` (an integer) and ``names`` (a hash id -> name)."""

    PREFIX = "sitegen:"

    def __init__(self, url: str) -> None:
        import redis  # only a Redis deployment needs the package

        self.url = url
        try:
            self.redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2.0, socket_connect_timeout=2.0)
            self.redis.ping()
        except (redis.RedisError, ValueError) as exc:
            raise FragmentError.at(url, f"cannot reach Redis: {exc}", "start Redis or fix [fragments] store") from None

    def _key(self, kind: str, name: str) -> str:
        return f"{self.PREFIX}{kind}:{name}"

    def generation(self, user: str) -> int:
        return int(self.redis.get(self._key("gen", user)) or 0)

    def sign_out_everywhere(self, user: str) -> int:
        return int(self.redis.incr(self._key("gen", user)))

    def attendance(self, user: str | None, event: str) -> Attendance:
        attendees = self._key("attendees", event)
        if user is None:
            return Attendance(False, int(self.redis.scard(attendees)), frozenset(), frozenset())
        follows = self._key("follows", user)
        pipe = self.redis.pipeline(transaction=False)
        pipe.scard(attendees)
        pipe.sismember(attendees, user)
        pipe.smembers(follows)
        pipe.sinter([follows, attendees])
        count, attending, following, both = pipe.execute()
        return Attendance(bool(attending), int(count), frozenset(both), frozenset(following))

    def set_attending(self, user: str, event: str, attending: bool) -> None:
        key = self._key("attendees", event)
        self.redis.sadd(key, user) if attending else self.redis.srem(key, user)

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        values = self.redis.hmget(self.PREFIX + "names", wanted)
        return {key: str(value) for key, value in zip(wanted, values, strict=True) if value is not None}

    def holds_data(self) -> bool:
        """Whether any user, follow or attendance is stored (what ``replace`` would wipe)."""
        if self.redis.exists(self.PREFIX + "names"):
            return True
        kinds = ("follows", "attendees")
        return any(next(iter(self.redis.scan_iter(self._key(kind, "*"), count=1000)), None) is not None for kind in kinds)

    def replace(self, data: PersonalData) -> None:
        follows: dict[str, set[str]] = {}
        for user, target in data.follows:
            follows.setdefault(user, set()).add(target)
        attendees: dict[str, set[str]] = {}
        for user, event in data.attendance:
            attendees.setdefault(event, set()).add(user)
        old = [key for kind in ("follows", "attendees") for key in self.redis.scan_iter(self._key(kind, "*"), count=1000)]
        pipe = self.redis.pipeline(transaction=True)  # readers see the old data or the new, never half
        for key in old:
            pipe.delete(key)
        pipe.delete(self.PREFIX + "names")
        if data.users:
            pipe.hset(self.PREFIX + "names", mapping=dict(data.users))
        for user, targets in follows.items():
            pipe.sadd(self._key("follows", user), *sorted(targets))
        for event, users in attendees.items():
            pipe.sadd(self._key("attendees", event), *sorted(users))
        pipe.execute()

    def close(self) -> None:
        self.redis.close()


def describe(store: PersonalStore) -> str:
    return str(getattr(store, "path", None) or getattr(store, "url", "store"))


def counts(data: PersonalData) -> Mapping[str, int]:
    return {"users": len(data.users), "follows": len(data.follows), "attendance": len(data.attendance)}
