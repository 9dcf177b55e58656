"""Reading the ``events`` of one schedule v2 document as talks: times, the
room object, the track, participants with their roles, and links and
attachments as media. A person's name, bio, avatar and id, and a link's
media kind, are read as v1 reads them (``sitegen.sources.frab.talks``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sitegen.contract import MAX_LIST_ITEMS
from sitegen.sources.frab.ids import _digest, _slug
from sitegen.sources.frab.markdown import _escape_markdown
from sitegen.sources.frab.parsed import Warn, _Person, _Talk
from sitegen.sources.frab.talks import _abstract, _identified, _TalkReader
from sitegen.sources.frab.values import _key_text, _line, _moment, _show, _timestamp
from sitegen.sources.pretalx.values import _i18n
from sitegen.sources.schedule2.values import GONE_STATES, META_TYPES, ROLE_NAMES, ROLES, STALE_LINK_TYPES, _duration, _guid


@dataclass(frozen=True)
class _Lookups:
    """What the events refer to: rooms by guid and slug, tracks by slug, persons by guid; and the language to read translated text in."""

    rooms_by_guid: Mapping[str, Mapping[str, Any]]
    rooms_by_slug: Mapping[str, Mapping[str, Any]]
    tracks: Mapping[str, Mapping[str, Any]]
    persons: Mapping[str, Mapping[str, Any]]
    language: str | None


class _EventReader:
    def __init__(self, origin: str, zone: tzinfo, talks: _TalkReader, lookups: _Lookups, warn: Warn) -> None:
        self.origin, self.zone, self.talks, self.lookups, self.warn = origin, zone, talks, lookups, warn

    def events(self, events: Any) -> Iterator[_Talk]:
        for position, raw in enumerate(events):
            talk = self.event(f"{self.origin}: events[{position}]", raw)
            if talk is not None:
                yield talk

    def event(self, where: str, raw: Any) -> _Talk | None:
        if not isinstance(raw, Mapping):
            self.warn(where, f"{_show(raw)} is not an event object; left out", "send each event as an object")
            return None
        if _word(raw.get("type")) in META_TYPES or _word(raw.get("state")) in GONE_STATES:
            return None  # a break, or a talk that was not given: no page in an archive
        label = where + _identified(raw)
        title = _line(raw.get("title"))
        if not title:
            self.warn(label, f"has no title ({_show(raw.get('title'))}); left out", "give the event a title in the schedule, or remove it")
            return None
        start, end = self.times(label, raw)
        room = self.room(label, raw.get("room"))
        code = _key_text(raw.get("code"))
        key = _guid(raw.get("guid")) or code or _digest(f"{title}\0{_timestamp(start)}\0{room}")
        people = self.participants(label, raw.get("participants"))
        return _Talk(
            label,
            key,
            _slug(raw.get("slug")) or _slug(title) or "talk",
            _slug(code) or _digest(key),
            title,
            self.abstract(raw, people),
            start,
            end,
            room,
            tuple(person for person, _ in people),
            self.track(label, raw.get("track")),
            self.media(label, raw),
        )

    def times(self, label: str, raw: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
        """``start`` and ``end``, absolute times (one without an offset is in the conference's timezone,
        so a talk after midnight is on the next day as its timestamp says); no end: start + ``duration``."""
        start = _moment(raw.get("start"), self.zone)
        if start is None:
            self.warn(
                label,
                f"has no usable start ({_show(raw.get('start'))}); shown as not yet scheduled",
                'give the event a start such as "2024-12-27T10:30:00+01:00"',
            )
            return None, None
        return start, self.talks.end(
            label, start, _moment(raw.get("end"), self.zone), _duration(raw.get("duration")), "correct the event's end"
        )

    def room(self, label: str, value: Any) -> str | None:
        """The name of the room a reference points at (by guid, else slug, among ``conference.rooms``),
        else the name the reference gives; a bare string (v1 style) is the name itself."""
        if value is None or isinstance(value, str):
            return _line(value) or None
        reference = value if isinstance(value, Mapping) else {}
        known = self.lookups.rooms_by_guid.get(_guid(reference.get("guid"))) or self.lookups.rooms_by_slug.get(_guid(reference.get("slug")))
        name = _line(known.get("name")) if known else ""
        if name := name or _line(reference.get("name")):
            return name
        self.warn(
            f"{label}.room",
            f"{_show(value)} names no room of conference.rooms and has no name; shown without a room",
            "refer to a room of conference.rooms by its guid",
        )
        return None

    def track(self, label: str, value: Any) -> tuple[str, ...]:
        """The track's name: the one of ``conference.tracks`` with the reference's slug; a bare string is the name."""
        if value is None or isinstance(value, str):
            return (name,) if (name := _line(value)) else ()
        slug = _guid(value.get("slug")) if isinstance(value, Mapping) else ""
        known = self.lookups.tracks.get(slug)
        if name := _line(known.get("name")) if known else "":
            return (name,)
        self.warn(
            f"{label}.track",
            f"{_show(value)} names no track of conference.tracks; the talk has no topic",
            "refer to a track of conference.tracks by its slug, and give that track a name",
        )
        return ()

    def participants(self, label: str, value: Any) -> list[tuple[_Person, str]]:
        """(person, role) for each participant, speakers first, then the other roles in schema2's order;
        a person named twice is kept at their first role. At most the contract's MAX_LIST_ITEMS."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.warn(
                f"{label}.participants", f"is {_show(value)}, not a list; the talk has no speakers", "list the participants in an array"
            )
            return []
        found: dict[str, tuple[_Person, str]] = {}
        for position, raw in enumerate(value):
            read = self.participant(f"{label}.participants[{position}]", raw)
            if read is not None:
                found.setdefault(read[0].id, read)
        people = sorted(found.values(), key=lambda pair: ROLES.index(pair[1]))
        if len(people) > MAX_LIST_ITEMS:
            self.warn(
                f"{label}.participants",
                f"names {len(people):,} people; the first {MAX_LIST_ITEMS} are kept",
                f"list at most {MAX_LIST_ITEMS} participants",
            )
        return people[:MAX_LIST_ITEMS]

    def participant(self, where: str, raw: Any) -> tuple[_Person, str] | None:
        """One participant, with what ``persons`` says of the same guid (biography, avatar)."""
        fields = raw if isinstance(raw, Mapping) else {}
        known = self.lookups.persons.get(_guid(fields.get("guid")), {})
        merged = {**known, **fields}
        if not _line(merged.get("name")):
            self.warn(where, f"{_show(raw)} has no name; left out of the speakers", 'give the participant a "name"')
            return None
        role = merged.get("role", "SPEAKER")
        if role not in ROLES:
            self.warn(f"{where}.role", f"{_show(role)} is not one of {', '.join(ROLES)}; read as SPEAKER", "use a role of schema2")
            role = "SPEAKER"
        avatar = merged.get("avatar")
        merged["avatar"] = avatar.get("url") if isinstance(avatar, Mapping) else avatar
        person = self.talks.person(where, merged)
        return (person, role) if person is not None else None

    def abstract(self, raw: Mapping[str, Any], people: list[tuple[_Person, str]]) -> str | None:
        """v1's abstract (subtitle, abstract, description; translated text in the conference's language),
        and a line naming the participants who are not speakers, by role: the contract lists all as speakers."""
        language = self.lookups.language
        text = _abstract({key: _i18n(raw.get(key), language) for key in ("subtitle", "abstract", "description")})
        roles = [
            f"{ROLE_NAMES[role]}: " + ", ".join(_escape_markdown(person.name) for person, named in people if named == role)
            for role in ROLES[1:]
            if any(named == role for _, named in people)
        ]
        parts = [text, " · ".join(roles) if roles else None]
        return "\n\n".join(part for part in parts if part) or None

    def media(self, label: str, raw: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
        """Links and attachments as v1 reads them; schema2 spells the c3voc types in capitals,
        and a FEEDBACK link (a form for the days of the conference) is left out."""
        lists = {key: raw.get(key) for key in ("links", "attachments")}
        readable = {
            key: [_lower_type(item) for item in items if not _stale(item)] if isinstance(items, list) else items
            for key, items in lists.items()
        }
        media = self.talks.media(label, readable)
        if len(media) > MAX_LIST_ITEMS:
            self.warn(
                label, f"has {len(media):,} links and attachments; the first {MAX_LIST_ITEMS} are kept", f"give at most {MAX_LIST_ITEMS}"
            )
        return media[:MAX_LIST_ITEMS]


def _word(value: Any) -> str:
    """A type, state or role as the format spells it; "" for what is no string (a list is no set member)."""
    return value if isinstance(value, str) else ""


def _stale(item: Any) -> bool:
    return isinstance(item, Mapping) and _word(item.get("type")) in STALE_LINK_TYPES


def _lower_type(item: Any) -> Any:
    """A link with its type in v1's spelling (lower case); a type that is no string is dropped."""
    if isinstance(item, Mapping) and "type" in item:
        return {**item, "type": _word(item["type"]).lower() or None}
    return item
