"""pretalx's answers as the contract's collections: the event, a session per
scheduled slot of each confirmed talk, its speakers as people, its track and
public tags as topics, its resources as media. Missing data degrades with a
warning naming the object."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from sitegen.bounded import shown
from sitegen.contract import DATE_RE, NOT_WEB_URL, YEARS, media_kind, place_timezones, slugify, web_url
from sitegen.errors import Problem
from sitegen.sources import Converted
from sitegen.sources.pretalx.values import (
    _i18n,
    _list,
    _locale,
    _public_url,
    _published,
    _slug,
    _slug_in_url,
    _text,
    _topic_order,
)

#: The longest slot duration read (a week): a longer one is no talk, and could overflow the date.
_MAX_MINUTES = 7 * 24 * 60


class _Converter:
    """One event's worth of state: its locale and timezone, what was read, the warnings."""

    def __init__(self, event: Mapping[str, Any], schedules: list[Any], base_url: str) -> None:
        self.raw_event = event
        self.base = base_url
        self.warnings: list[Problem] = []
        self.event_id = _text(event.get("slug")) or _slug_in_url(base_url) or "event"
        self.where = f"event[{self.event_id}]"
        self.locale = _locale(event)
        self.timezone = self._timezone()
        self.zone = zoneinfo.ZoneInfo(self.timezone)
        self.updated_at = _published(schedules) or self._first_midnight()
        self.people: dict[str, dict[str, Any]] = {}
        self.topics: dict[str, dict[str, Any]] = {}
        self.topic_slugs: set[str] = set()

    def warn(self, where: str, what: str, fix: str) -> None:
        self.warnings.append(Problem(where, what, fix))

    def run(self, submissions: list[Any]) -> Converted:
        talks = list(self._talks(submissions))
        for code, talk in talks:
            self._collect_people(code, talk)
        sessions = [session for code, talk in talks for session in self._sessions(code, talk)]
        topics = sorted(self.topics.values(), key=_topic_order)
        event = self._event(sessions, [topic["id"] for topic in topics])
        return Converted(
            {
                "series": [],
                "venues": [],
                "topics": topics,
                "people": [self.people[code] for code in sorted(self.people)],
                "events": [event],
                "sessions": sessions,
            },
            tuple(self.warnings),
        )

    # --- the event

    def _timezone(self) -> str:
        value = self.raw_event.get("timezone")
        if isinstance(value, str) and value in place_timezones():
            return value
        self.warn(
            self.where, f"timezone {shown(value)} is not an IANA timezone; times are shown in UTC", "set the event's timezone in pretalx"
        )
        return "UTC"

    def _first_midnight(self) -> str:
        """``updated_at`` when nothing is published: stable, unlike the time of the fetch."""
        start = self.raw_event.get("date_from")
        day = start if isinstance(start, str) and DATE_RE.fullmatch(start) else "1970-01-01"
        return f"{day}T00:00:00+00:00"

    def _event(self, sessions: list[dict[str, Any]], topics: list[str]) -> dict[str, Any]:
        event = self.raw_event
        name = _i18n(event.get("name"), self.locale)
        if not name:
            self.warn(self.where, "has no name; shown as its slug", "give the event a name in pretalx")
        # Local days of the sessions (their timestamps are local): what the dates fall back to.
        days = sorted(s["start"][:10] for s in sessions if s.get("start"))
        start, end = _text(event.get("date_from")), _text(event.get("date_to"))
        if start is None or end is None:
            self.warn(self.where, "has no date_from or date_to; the sessions' days are used", "set the event's dates in pretalx")
            start = start or (days[0] if days else None)
            end = end or max(filter(None, (start, days[-1] if days else None)), default=None)
        return {
            "id": self.event_id,
            "slug": _slug(self.event_id, "event"),
            "name": name or self.event_id,
            "start_date": start,
            "end_date": end,
            "timezone": self.timezone,
            "url": _public_url(self.base, event),
            "topics": topics,
            "updated_at": self.updated_at,
        }

    # --- talks

    def _talks(self, submissions: list[Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(code, submission) for every usable one, each code once."""
        seen: set[str] = set()
        for position, talk in enumerate(submissions):
            code = _text(talk.get("code")) if isinstance(talk, Mapping) else None
            if code is None or not isinstance(talk, Mapping):
                self.warn(f"submissions[{position}]", "has no code; left out", "report it to the pretalx server's operator")
            elif code in seen:
                self.warn(
                    f"submissions[{code}]",
                    "is listed twice; the first is kept",
                    "build again: the listing probably changed while it was read",
                )
            else:
                seen.add(code)
                yield code, talk

    def _sessions(self, code: str, talk: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One session per scheduled slot (a talk given twice is two sessions), or one without times."""
        where = f"submissions[{code}]"
        title = _i18n(talk.get("title"), self.locale)
        if not title:
            self.warn(where, f"no title; shown as 'Untitled ({code})'", "give the talk a title in pretalx")
            title = f"Untitled ({code})"
        common = {
            "event": self.event_id,
            "title": title,
            "abstract": self._abstract(talk),
            "speakers": self._speaker_ids(where, talk),
            "topics": self._topic_ids(talk),
            "media": self._media(where, talk),
            "updated_at": self.updated_at,
        }
        slots = sorted(self._slots(where, talk), key=lambda slot: slot[0])
        if not slots:
            return [{"id": code, "slug": _slug(code, "talk"), **common, "start": None, "end": None, "room": None}]
        sessions = []
        for number, (start, end, room) in enumerate(slots, 1):
            session_id = code if number == 1 else f"{code}-{number}"
            sessions.append(
                {
                    "id": session_id,
                    "slug": _slug(session_id, "talk"),
                    **common,
                    "start": start.isoformat(),
                    "end": end.isoformat() if end else None,
                    "room": room,
                }
            )
        return sessions

    def _abstract(self, talk: Mapping[str, Any]) -> str | None:
        """pretalx's short abstract, then its long description: both Markdown, one text here."""
        parts = [_i18n(talk.get(key), self.locale) for key in ("abstract", "description")]
        return "\n\n".join(part.strip() for part in parts if part and part.strip()) or None

    def _slots(self, where: str, talk: Mapping[str, Any]) -> Iterator[tuple[datetime, datetime | None, str | None]]:
        """(start, end, room) of each scheduled slot, in the event's timezone."""
        raw = talk.get("slots")
        slots = raw if isinstance(raw, list) else [talk.get("slot")]  # v1: a list; legacy: one "slot"
        for slot in slots:
            if not isinstance(slot, Mapping) or slot.get("start") is None:
                continue  # unscheduled: pretalx keeps a slot without a time
            start = self._moment(where, "start", slot.get("start"))
            if start is None:
                continue
            end = self._end(where, slot, start)
            yield start, end, self._room(slot.get("room"))

    def _end(self, where: str, slot: Mapping[str, Any], start: datetime) -> datetime | None:
        end = self._moment(where, "end", slot.get("end")) if slot.get("end") is not None else None
        duration = slot.get("duration")
        if end is None and isinstance(duration, int) and not isinstance(duration, bool) and 0 < duration <= _MAX_MINUTES:
            end = start + timedelta(minutes=duration)
        if end is not None and end < start:
            self.warn(
                where,
                f"its slot ends ({end.isoformat()}) before it starts ({start.isoformat()}); the end is left out",
                "correct the slot in pretalx's schedule editor",
            )
            return None
        return end

    def _moment(self, where: str, key: str, value: Any) -> datetime | None:
        """A slot time in the event's timezone. pretalx sends offsets; a time without one is local.
        One outside the contract's ``YEARS`` is refused (it could not be moved to the timezone)."""
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.year not in YEARS:
            left_out = "the slot is left out" if key == "start" else "the end is left out"
            what = "is not a timestamp" if moment is None else f"is outside the years {YEARS.start}-{YEARS.stop - 1}"
            self.warn(where, f"slot {key} {shown(value)} {what}; {left_out}", "report it to the pretalx server's operator")
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(self.zone)

    def _room(self, room: Any) -> str | None:
        """v1 expands the room (``{"id", "name": {...}}``); legacy sends its name."""
        name = room.get("name") if isinstance(room, Mapping) else room
        return _i18n(name, self.locale) or None

    # --- speakers

    def _collect_people(self, code: str, talk: Mapping[str, Any]) -> None:
        for speaker in _list(talk.get("speakers")):
            if not isinstance(speaker, Mapping):
                continue  # a bare code: resolved (or reported) by _speaker_ids
            person_code = _text(speaker.get("code"))
            if person_code is None:
                self.warn(f"submissions[{code}].speakers", "a speaker has no code; left out", "report it to the pretalx server's operator")
            elif person_code not in self.people:
                self.people[person_code] = self._person(person_code, speaker)

    def _person(self, code: str, speaker: Mapping[str, Any]) -> dict[str, Any]:
        where = f"speakers[{code}]"
        name = _i18n(speaker.get("name"), self.locale)
        if not name:
            self.warn(where, f"no name; shown as {code}", "ask the speaker to fill in their name in pretalx")
        return {
            "id": code,
            "slug": _slug(code, "speaker"),
            "name": name or code,
            "bio": _i18n(speaker.get("biography"), self.locale) or None,
            "links": [],
            "avatar_url": self._web_url(where, "avatar", speaker.get("avatar_url", speaker.get("avatar"))),
            "updated_at": self.updated_at,
        }

    def _speaker_ids(self, where: str, talk: Mapping[str, Any]) -> list[str]:
        ids = []
        for speaker in _list(talk.get("speakers")):
            code = _text(speaker.get("code")) if isinstance(speaker, Mapping) else _text(speaker)
            if code in self.people:
                ids.append(code)
            elif code is not None:
                self.warn(
                    where,
                    f"speaker {code} is not in pretalx's answer; left out",
                    "use a pretalx version that expands speakers (2025.1 or later)",
                )
        return ids

    # --- topics: tracks and public tags

    def _topic_ids(self, talk: Mapping[str, Any]) -> list[str]:
        ids = []
        track = talk.get("track")
        if isinstance(track, Mapping):  # v1, expanded
            ids.append(self._topic("track", track.get("id"), track.get("name")))
        elif track is not None and not isinstance(track, int):  # legacy: the name beside track_id
            ids.append(self._topic("track", talk.get("track_id"), track))
        for tag in _list(talk.get("tags")):
            # Only tags known to be public: pretalx also shows anonymously the ones organisers keep to themselves.
            if isinstance(tag, Mapping) and tag.get("is_public") is True:
                ids.append(self._topic("tag", tag.get("id"), tag.get("tag")))
        return [topic for topic in dict.fromkeys(ids) if topic]

    def _topic(self, kind: str, number: Any, name: Any) -> str:
        """The topic's id, made on first sight: the id from pretalx's, the slug from the name."""
        text = _i18n(name, self.locale)
        key = str(number) if isinstance(number, int | str) and str(number) else (slugify(text) if text else "")
        if not key:
            return ""
        topic_id = f"{kind}-{key}"
        if topic_id not in self.topics:
            if not text:
                self.warn(f"{kind}s[{key}]", f"has no name; shown as '{kind.title()} {key}'", f"name the {kind} in pretalx")
            name_text = text or f"{kind.title()} {key}"
            slug = slugify(name_text) or topic_id
            if slug in self.topic_slugs:  # a track and a tag of the same name: the later gets its id added
                slug = f"{slug}-{topic_id}"
            self.topic_slugs.add(slug)
            self.topics[topic_id] = {"id": topic_id, "slug": slug, "name": name_text, "updated_at": self.updated_at}
        return topic_id

    # --- media and links

    def _media(self, where: str, talk: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Resources (slides, recordings, links) that pretalx shows publicly, with a guessed kind."""
        media = []
        for resource in _list(talk.get("resources")):
            if not isinstance(resource, Mapping):
                continue  # not expanded: an id only
            url = self._web_url(where, "resource", resource.get("resource") or resource.get("link"))
            if url:
                title = _text(resource.get("description"))
                media.append({"kind": media_kind(url), "url": url, "title": title})
        return media

    def _web_url(self, where: str, what: str, value: Any) -> str | None:
        """A URL the contract accepts (pretalx may send its own files as paths,
        read against the API's URL), or None with a warning."""
        text = _text(value)
        if text is None:
            return None
        url, problem = web_url(text, self.base)
        if problem is None:
            return url
        what_is_wrong, fix = problem
        if problem == NOT_WEB_URL:
            fix = f"link the {what} with an http(s) URL in pretalx"
        self.warn(where, f"{what} {shown(text)} {what_is_wrong}; left out", fix)
        return None
