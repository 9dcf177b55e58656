"""Reading the deploy manifest back from the bucket: hostile until checked.

Anyone who can write to the bucket can write the manifest, and publish deletes
what it lists, so nothing in it is used before all of it is checked:

* the gzip is inflated within ``MAX_JSON_BYTES`` (a 400 KB bomb stops at that
  cap, never reaching 400 MB) and the JSON parsed at most 8 levels deep;
* every field has its exact type and a bounded size: the format, the deploy
  number, each object's state (exactly eight fields), the history (at most
  ``MAX_HISTORY`` records), the pending keys and CDN paths;
* every key is one the build could have written (``write.output_path_problem``,
  the write stage's own rule), fits in an S3 key after the prefix, and is not
  sitegen's own state (``.sitegen/``: the manifest, which is also the intent
  record, lives there).

Whatever fails is ``ManifestUnreadable`` with a short reason; echoed values are clipped.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sitegen.bounded import TooLarge, inflate, loads_json, shown
from sitegen.errors import SitegenError, clip
from sitegen.publish.headers import Kind
from sitegen.publish.manifest import (
    FORMAT,
    MAX_DEPLOY,
    MAX_ENTRIES,
    MAX_HISTORY,
    MAX_INVALIDATION_PATHS,
    MAX_JSON_BYTES,
    MAX_KEY_BYTES,
    DeployRecord,
    Manifest,
    ManifestUnreadable,
    ObjectState,
)
from sitegen.write import STATE_DIR, output_path_problem

#: A manifest nests five levels (body, history, record, before, state); a little room beyond.
JSON_DEPTH = 8
#: S3 stores objects of at most 5 TB; a single PUT (all sitegen makes) at most 5 GB.
MAX_SIZE = 5 * 1024**3
MAX_VERSION_CHARS = 1024
MAX_TIMESTAMP_CHARS = 40
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_FIELDS = {"format", "deploy", "objects", "history", "pending", "pending_invalidation"}
_RECORD_FIELDS = {"deploy", "at", "before"}
T = TypeVar("T")


class _NotJson(SitegenError):
    """How ``loads_json`` reports a body that is not JSON; turned into ManifestUnreadable."""


def read_manifest(data: bytes, prefix: str) -> Manifest:
    """The manifest in ``data`` (as stored: gzip), checked whole; keys are relative to ``prefix``."""
    try:
        text = inflate([data], ["gzip"], MAX_JSON_BYTES)
    except TooLarge:
        raise ManifestUnreadable(f"it inflates to more than {MAX_JSON_BYTES:,} bytes (a manifest may hold no more)") from None
    except (zlib.error, EOFError, ValueError) as exc:
        raise ManifestUnreadable(f"it is not gzip, or is cut short ({clip(str(exc))})") from None
    try:
        body = loads_json(text, "it", _NotJson, "", max_depth=JSON_DEPTH, unique_keys=True)
    except _NotJson as exc:
        raise ManifestUnreadable(f"it {exc.problems[0].what}") from None
    return _manifest(body, prefix)


def _manifest(body: Any, prefix: str) -> Manifest:
    if not isinstance(body, dict):
        raise ManifestUnreadable(f"it holds {_kind(body)}, not an object")
    if body.get("format") != FORMAT:
        raise ManifestUnreadable(f"it has format {shown(body.get('format'))}, not {FORMAT!r} (written by another version of sitegen?)")
    if set(body) != _FIELDS:
        odd = sorted(set(body) ^ _FIELDS)
        raise ManifestUnreadable(f"it has fields {shown(sorted(body))}; expected exactly {sorted(_FIELDS)} (odd: {shown(odd)})")
    deploy = _int(body["deploy"], "deploy", 0, MAX_DEPLOY)
    objects = _states(body["objects"], "objects", prefix, MAX_ENTRIES, deploy, nullable=False)
    history = _history(body["history"], prefix, deploy, MAX_ENTRIES - len(objects))
    pending = _list(body["pending"], "pending", MAX_ENTRIES, lambda key, where: _key(key, where, prefix))
    paths = _list(body["pending_invalidation"], "pending_invalidation", MAX_INVALIDATION_PATHS, _cdn_path)
    return Manifest(deploy, objects, history, tuple(pending), tuple(paths))


def _history(raw: Any, prefix: str, deploy: int, room: int) -> tuple[DeployRecord, ...]:
    records = []
    for index, record in enumerate(_list(raw, "history", MAX_HISTORY, lambda item, where: item)):
        where = f"history[{index}]"
        if not isinstance(record, dict) or set(record) != _RECORD_FIELDS:
            raise ManifestUnreadable(f"{where} is {_kind(record)}, not an object with exactly {sorted(_RECORD_FIELDS)}")
        number = _int(record["deploy"], f"{where}.deploy", 1, deploy)
        before = _states(record["before"], f"{where}.before", prefix, room, deploy, nullable=True)
        room -= len(before)
        records.append(DeployRecord(number, _timestamp(record["at"], f"{where}.at"), before))
    return tuple(records)


def _states(raw: Any, where: str, prefix: str, limit: int, deploy: int, *, nullable: bool) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ManifestUnreadable(f"{where} is {_kind(raw)}, not an object of keys")
    if len(raw) > limit:
        raise ManifestUnreadable(f"{where} holds {len(raw):,} keys; a manifest holds at most {MAX_ENTRIES:,} in all")
    states: dict[str, Any] = {}
    for key, state in raw.items():
        _key(key, where, prefix)
        here = f"{where}[{shown(key)}]"
        states[key] = None if nullable and state is None else _state(state, here, deploy)
    return states


def _state(raw: Any, where: str, deploy: int) -> ObjectState:
    if not isinstance(raw, list) or len(raw) != 8:
        raise ManifestUnreadable(f"{where} is {_kind(raw)}, not a list of the 8 fields of an object's state")
    sha256, headers, size, kind, version, live, last_live, retired_at = raw
    _text(sha256, f"{where} sha256", _SHA256, "64 hex digits")
    _text(headers, f"{where} header fingerprint", _FINGERPRINT, "16 hex digits")
    if version is not None and not (isinstance(version, str) and 0 < len(version) <= MAX_VERSION_CHARS and not _CONTROL.search(version)):
        raise ManifestUnreadable(f"{where} version is {_kind(version)}, not null or an S3 version id")
    if not isinstance(live, bool):
        raise ManifestUnreadable(f"{where} live is {_kind(live)}, not true or false")
    if live and (last_live != 0 or retired_at != ""):
        raise ManifestUnreadable(f"{where} is live but has a retirement ({shown(last_live)}, {shown(retired_at)})")
    return ObjectState(
        sha256,
        headers,
        _int(size, f"{where} size", 0, MAX_SIZE),
        Kind(_int(kind, f"{where} kind", min(Kind), max(Kind))),
        version,
        live,
        # deploy + 1: a rollback retires what the rolled-back deploy added, and numbers itself one lower.
        _int(last_live, f"{where} last live deploy", 0, deploy + 1),
        retired_at if live else _timestamp(retired_at, f"{where} retired_at"),
    )


def _key(key: Any, where: str, prefix: str) -> str:
    """A key the build could have written, inside the prefix, and not sitegen's own state."""
    if not isinstance(key, str):
        raise ManifestUnreadable(f"{where} is {_kind(key)}, not a key (a string)")
    if len(key) > MAX_KEY_BYTES or len((prefix + key).encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ManifestUnreadable(f"{where} names {shown(key)}, longer than an S3 key may be ({MAX_KEY_BYTES} bytes with the prefix)")
    problem = output_path_problem(key)
    if problem:
        raise ManifestUnreadable(f"{where} names {shown(key)}, which {problem}: no build writes such a path")
    if key.split("/", 1)[0].casefold() == STATE_DIR:  # any case: .SITEGEN/ too
        raise ManifestUnreadable(f"{where} names {shown(key)}, sitegen's own state (under {STATE_DIR}/), never a file of the site")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ManifestUnreadable(f"{where} names {shown(key)}, which is not valid Unicode (a lone surrogate)") from None
    return key


def _cdn_path(path: Any, where: str) -> str:
    limit = MAX_KEY_BYTES + 1
    if not isinstance(path, str) or not path.startswith("/") or len(path) > limit or _CONTROL.search(path):
        raise ManifestUnreadable(f"{where} is {_kind(path)}, not a URL path starting with '/' of at most {limit} characters")
    return path


def _list(raw: Any, where: str, limit: int, item: Callable[[Any, str], T]) -> list[T]:
    if not isinstance(raw, list):
        raise ManifestUnreadable(f"{where} is {_kind(raw)}, not a list")
    if len(raw) > limit:
        raise ManifestUnreadable(f"{where} holds {len(raw):,} items, more than {limit:,}")
    return [item(value, f"{where}[{index}]") for index, value in enumerate(raw)]


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ManifestUnreadable(f"{where} is {_kind(value)}, not a whole number from {low:,} to {high:,}")
    return value


def _text(value: Any, where: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ManifestUnreadable(f"{where} is {_kind(value)}, not {what}")
    return value


def _timestamp(value: Any, where: str) -> str:
    """An ISO 8601 time with its offset, as ``publish`` records (compared with the clock's aware time)."""
    if isinstance(value, str) and len(value) <= MAX_TIMESTAMP_CHARS:
        try:
            if datetime.fromisoformat(value).tzinfo is not None:
                return value
        except ValueError:
            pass
    raise ManifestUnreadable(f"{where} is {_kind(value)}, not a time with its UTC offset")


def _kind(value: Any) -> str:
    """``value`` described for a message: its JSON type and a clipped rendering."""
    names: Mapping[type, str] = {
        str: "the string",
        bool: "the boolean",
        int: "the number",
        float: "the number",
        list: "the list",
        dict: "the object",
        type(None): "null",
    }
    name = names.get(type(value), type(value).__name__)
    return name if value is None else f"{name} {shown(value, 60)}"
