"""The change feed's entries applied to collections: the net change per object, and the merge by id
of what ``updated_since`` listed. Anything doubtful raises Doubt, which only ever means a full fetch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sitegen.bounded import shown

#: The change feed's ``type`` for each contract collection.
FEED_TYPES: Mapping[str, str] = {
    "series": "series",
    "venues": "venue",
    "topics": "topic",
    "people": "person",
    "events": "event",
    "sessions": "session",
}


class Doubt(Exception):
    """The local copy cannot be brought up to date safely; the message says why. Never
    shown as an error: it only turns an incremental fetch into a full one."""


def net_changes(entries: Iterable[Mapping[str, Any]], names: Iterable[str]) -> dict[tuple[str, str], str]:
    """(collection, id) -> the last op the feed gave it. An entry of a shape or type the contract
    does not define is doubt: ignoring it could silently keep a stale object."""
    collection_of = {FEED_TYPES[name]: name for name in names}
    net: dict[tuple[str, str], str] = {}
    for entry in entries:
        kind, oid, op = entry.get("type"), entry.get("id"), entry.get("op")
        if kind not in FEED_TYPES.values() or not isinstance(oid, str) or op not in ("upsert", "delete"):
            raise Doubt(f"the change feed has an entry the contract does not define: {shown(entry, 200)}")
        if kind in collection_of:  # a contract type this fetch does not read is none of its business
            net[(collection_of[kind], oid)] = op
    return net


def merge(
    name: str, old: tuple[Mapping[str, Any], ...], fresh: tuple[Mapping[str, Any], ...], ops: Mapping[str, str]
) -> tuple[Mapping[str, Any], ...]:
    """Apply one collection's changes: what ``updated_since`` returned replaces the old object in
    place (or is appended, in server order, when new), and deleted ids go. The listing is newer
    than the feed, so it wins over a delete; but every upsert must be confirmed by it."""
    listed = by_id(fresh)
    if listed is None:
        raise Doubt(f"{name} listed with updated_since has objects without a unique string id")
    missing = sorted(oid for oid, op in ops.items() if op == "upsert" and oid not in listed)
    if missing:
        raise Doubt(
            f"the change feed lists {FEED_TYPES[name]} {missing[0]!r} as changed, but {name} listed with updated_since does not return it"
        )
    merged: list[Mapping[str, Any]] = []
    for item in old:
        oid = item["id"]
        if oid in listed:
            merged.append(listed.pop(oid))
        elif ops.get(oid) != "delete":
            merged.append(item)
    merged.extend(listed.values())
    return tuple(merged)


def by_id(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]] | None:
    """The objects keyed by id, in order; None unless every one has a string id of its own."""
    found: dict[str, Mapping[str, Any]] = {}
    for item in items:
        oid = item.get("id")
        if not isinstance(oid, str) or oid in found:
            return None
        found[oid] = item
    return found
