#!/usr/bin/env python3
"""A deterministic synthetic conference archive: the API's folder form, a Hugo site, a Pelican site.

    python bench/gen.py --sessions N --out DIR [--seed S] [--form api|hugo|pelican|all]
    python bench/gen.py --touch-one --out DIR [--title-change same-length|longer] [--form ...]

``--form api`` (the default) writes ``DIR/sitegen.toml`` and
``DIR/data/{series,venues,topics,people,events,sessions}.json`` (each
``{"data": [...], "next": null}``, contract v1). ``--form hugo`` writes a Hugo
site and ``--form pelican`` a Pelican site with the same pages from the same
data (site files from ``bench/sites/``); ``--form all`` writes all three into
``DIR/api/``, ``DIR/hugo/`` and ``DIR/pelican/``. Shape, shared with the other
benchmarks:

* 40 sessions per event (the last event takes the remainder), events spread
  evenly over 2011-2025, 1-3 days each, 4 rooms, real local times with the
  venue's UTC offset;
* N/3 people (every person speaks at least once when N >= 3), 1-2 speakers
  per session, short Markdown bios;
* 200 topics, 3 per session;
* ~150-word Markdown abstracts with *emphasis*, ``code`` and a link;
* 6 series, 20 venues in 15 countries with their IANA timezones.

Only the standard library is used. Every choice comes from ``random.Random``
seeded with a string derived from ``--seed`` (string seeds are hashed with
SHA-512, so the result does not depend on PYTHONHASHSEED), and JSON is written
with sorted keys: the same arguments give byte-identical files.

``--touch-one`` changes exactly one field in an existing DIR: the title of the
session with the smallest id (the "one-session change" benchmark case), in
``data/sessions.json`` for the API form and in that session's Markdown file
for Hugo and Pelican (the form is detected from DIR unless given). By
default the new title has the same length (one word swapped for another of
the same length, like a typo fix), so every page that shows it keeps its
size; ``--title-change longer`` appends " (updated)" instead. Nothing else
changes (not even ``updated_at``). Running it again changes the title again.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import unicodedata
from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

SESSIONS_PER_EVENT = 40
TOPIC_COUNT = 200
TOPICS_PER_SESSION = 3
FIRST_YEAR, LAST_YEAR = 2011, 2025
ROOMS = ("Main Hall", "Room A", "Room B", "Workshop Room")
SLOT_MINUTES = 45
DAY_START_HOUR = 9
COLLECTIONS = ("series", "venues", "topics", "people", "events", "sessions")
BASE_URL = "https://archive.example.org/"
FORMS = ("api", "hugo", "pelican")
SITES = Path(__file__).resolve().parent / "sites"  # the Hugo and Pelican config, layouts and themes

# (venue name, city, ISO country, IANA timezone, lat, lon)
VENUES = (
    ("Bridgewater Exchange", "Manchester", "GB", "Europe/London", 53.4768, -2.2461),
    ("Riverside Centre", "London", "GB", "Europe/London", 51.5072, -0.1276),
    ("Kulturbrauerei Hall", "Berlin", "DE", "Europe/Berlin", 52.5392, 13.4132),
    ("Isarforum", "München", "DE", "Europe/Berlin", 48.1351, 11.5820),
    ("Seefeld Forum", "Zürich", "CH", "Europe/Zurich", 47.3769, 8.5417),
    ("Docks Pavilion", "Lyon", "FR", "Europe/Paris", 45.7640, 4.8357),
    ("Canal Theatre", "Amsterdam", "NL", "Europe/Amsterdam", 52.3676, 4.9041),
    ("Armazém 16", "Lisboa", "PT", "Europe/Lisbon", 38.7223, -9.1393),
    ("Alfândega Congress Centre", "Porto", "PT", "Europe/Lisbon", 41.1579, -8.6291),
    ("Matadero Hall", "Madrid", "ES", "Europe/Madrid", 40.4168, -3.7038),
    ("Kaapelitehdas", "Helsinki", "FI", "Europe/Helsinki", 60.1699, 24.9384),
    ("Forum Przemysłowe", "Kraków", "PL", "Europe/Warsaw", 50.0647, 19.9450),
    ("Pier 27 Center", "San Francisco", "US", "America/Los_Angeles", 37.7749, -122.4194),
    ("Hudson Yards Hall", "New York", "US", "America/New_York", 40.7128, -74.0060),
    ("Lakeshore Hub", "Chicago", "US", "America/Chicago", 41.8781, -87.6298),
    ("Distillery Commons", "Toronto", "CA", "America/Toronto", 43.6532, -79.3832),
    ("Bela Vista Centro", "São Paulo", "BR", "America/Sao_Paulo", -23.5505, -46.6333),
    ("Harbour Exhibition Hall", "Sydney", "AU", "Australia/Sydney", -33.8688, 151.2093),
    ("Koregaon Convention Centre", "Pune", "IN", "Asia/Kolkata", 18.5204, 73.8567),
    ("Shibuya Stream Hall", "Tokyo", "JP", "Asia/Tokyo", 35.6762, 139.6503),
)

SERIES = (
    ("PyNorth", "a volunteer-run Python conference"),
    ("Frontkraft", "a conference about the craft of building for the web"),
    ("Pipeline Days", "a travelling conference for data engineers and SREs"),
    ("Rustfest Local", "a community conference about Rust"),
    ("OpsCamp", "an unconference about running software in production"),
    ("Accessible by Default", "a conference about making the web work for everyone"),
)
STANDALONE_PREFIXES = ("DevDays", "CodeMotion", "Web Summit Local", "Data Council", "Cloud Native Day", "TestCon")

SUBJECTS = (
    "Python",
    "Rust",
    "Go",
    "JavaScript",
    "TypeScript",
    "Java",
    "Kotlin",
    "Swift",
    "Elixir",
    "Haskell",
    "CSS",
    "HTML",
    "WebAssembly",
    "GraphQL",
    "REST APIs",
    "gRPC",
    "PostgreSQL",
    "SQLite",
    "Redis",
    "Kafka",
    "Kubernetes",
    "Docker",
    "Terraform",
    "Linux",
    "Networking",
    "Observability",
    "Logging",
    "Tracing",
    "Machine Learning",
    "Data Engineering",
    "Analytics",
    "Search",
    "Caching",
    "Concurrency",
    "Compilers",
    "Databases",
    "Accessibility",
    "Design Systems",
    "Mobile",
    "Browsers",
    "Cryptography",
    "Identity",
    "Open Source",
    "Documentation",
    "Teams",
    "Hiring",
    "Incident Response",
    "Static Sites",
    "Embedded",
    "Games",
)
FACETS = ("", "Testing", "Performance", "Security")

FIRST_NAMES = (
    "Ada",
    "Aino",
    "Alvaro",
    "Amara",
    "Amelia",
    "Ana",
    "Anders",
    "Anika",
    "Arjun",
    "Astrid",
    "Beatriz",
    "Bjorn",
    "Camille",
    "Carlos",
    "Chen",
    "Chidi",
    "Clara",
    "Dario",
    "Dmitri",
    "Elena",
    "Elif",
    "Emeka",
    "Emil",
    "Esther",
    "Fatima",
    "Felix",
    "Freya",
    "Gabriel",
    "Greta",
    "Hana",
    "Hugo",
    "Ines",
    "Ingrid",
    "Isaac",
    "Ivan",
    "Jakub",
    "Jana",
    "Javier",
    "Jonas",
    "Juno",
    "Kai",
    "Kalinda",
    "Karin",
    "Kenji",
    "Laila",
    "Lars",
    "Lea",
    "Leon",
    "Lucia",
    "Luis",
    "Maja",
    "Malik",
    "Marta",
    "Mateo",
    "Mei",
    "Mia",
    "Mikko",
    "Nadia",
    "Naoki",
    "Nia",
    "Nikolai",
    "Noor",
    "Olga",
    "Omar",
    "Oskar",
    "Paula",
    "Pedro",
    "Priya",
    "Rafael",
    "Rania",
    "Ravi",
    "Rosa",
    "Ruth",
    "Sakura",
    "Samir",
    "Sara",
    "Sebastian",
    "Sofia",
    "Soren",
    "Tariq",
    "Tess",
    "Theo",
    "Tomas",
    "Uma",
    "Valentina",
    "Viktor",
    "Wanjiru",
    "Wei",
    "Xavier",
    "Yara",
    "Yusuf",
    "Zainab",
    "Zofia",
    "Aisha",
    "Bruno",
    "Daria",
    "Eero",
    "Farah",
    "Goran",
    "Helga",
)
LAST_NAMES = (
    "Abara",
    "Andersen",
    "Bauer",
    "Berg",
    "Bianchi",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Hakimi",
    "Hansen",
    "Horvat",
    "Ibrahim",
    "Ito",
    "Jansen",
    "Kaur",
    "Kowalski",
    "Kumar",
    "Lambert",
    "Larsen",
    "Lindqvist",
    "Lopez",
    "Martin",
    "Meyer",
    "Mendes",
    "Moreau",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Nwosu",
    "Okafor",
    "Oliveira",
    "Park",
    "Patel",
    "Pereira",
    "Petrov",
    "Quinn",
    "Rahman",
    "Rossi",
    "Santos",
    "Schmidt",
    "Sato",
    "Silva",
    "Sobczak",
    "Svensson",
    "Tanaka",
    "Thornbury",
    "Torres",
    "Varga",
    "Virtanen",
    "Wagner",
    "Walker",
    "Weber",
    "Wong",
    "Yamada",
    "Yilmaz",
    "Zhang",
    "Zielinski",
    "Achebe",
    "Bergstrom",
    "Castillo",
    "Dimitrov",
    "Ekström",
    "Falk",
    "Gallagher",
    "Haddad",
    "Iversen",
    "Jovanovic",
    "Kim",
    "Laine",
    "Mbeki",
    "Nieminen",
    "Ortega",
    "Popescu",
    "Reyes",
    "Schulz",
    "Takahashi",
    "Usman",
    "Vasquez",
    "Wojcik",
    "Xu",
    "Young",
    "Zamora",
    "Adeyemi",
    "Brennan",
    "Chowdhury",
    "Delgado",
    "Eze",
)
JOBS = (
    "software engineer",
    "data engineer",
    "site reliability engineer",
    "developer advocate",
    "engineering manager",
    "security researcher",
    "accessibility specialist",
    "research software engineer",
    "frontend developer",
    "platform engineer",
    "technical writer",
    "open-source maintainer",
)
COMPANIES = (
    "Kestrel Labs",
    "Tanuki Systems",
    "Northwind Analytics",
    "Bramble & Finch",
    "Pinecone Robotics",
    "Lanternfish Media",
    "Copperleaf",
    "Orbital Bakery",
    "Quietwater",
    "Saltmarsh Software",
    "Blue Heron",
    "Fernweh",
)
HOBBIES = (
    "birdwatching",
    "restoring old bicycles",
    "learning Japanese, slowly",
    "bouldering",
    "sourdough",
    "long-distance running",
    "board games",
    "trains",
    "choir singing",
    "growing chillies",
)

TITLE_ADJECTIVES = (
    "Practical",
    "Boring",
    "Reliable",
    "Gentle",
    "Fast",
    "Modern",
    "Pragmatic",
    "Honest",
    "Tiny",
    "Resilient",
    "Humane",
    "Careful",
    "Painless",
    "Sustainable",
    "Observable",
    "Accessible",
)
TITLE_NOUNS = (
    "services",
    "pipelines",
    "deploys",
    "migrations",
    "schemas",
    "tests",
    "dashboards",
    "queues",
    "caches",
    "releases",
    "builds",
    "APIs",
    "teams",
    "libraries",
    "interfaces",
    "workflows",
    "clusters",
    "prototypes",
)
TITLE_VERBS = (
    "Scaling",
    "Shaping",
    "Building",
    "Breaking",
    "Testing",
    "Debugging",
    "Shipping",
    "Profiling",
    "Securing",
    "Teaching",
    "Measuring",
    "Rewriting",
    "Operating",
    "Untangling",
    "Migrating",
    "Designing",
)
TITLE_TEMPLATES = (
    "{verb} {noun} with {subject}",
    "{adj} {subject}: lessons from {n} years of {noun}",
    "{verb} {adj_l} {noun} in {subject}",
    "What {subject} taught us about {noun}",
    "{adj} {noun}, or how we stopped worrying about {subject}",
    "From zero to {subject}: {verb_l} {noun}",
    "The hidden cost of {noun} in {subject}",
    "{verb} {subject} {noun} at scale",
)

WORDS = (
    "system",
    "team",
    "latency",
    "budget",
    "release",
    "feedback",
    "pattern",
    "trade-off",
    "failure",
    "metric",
    "contract",
    "boundary",
    "migration",
    "schema",
    "query",
    "index",
    "cache",
    "queue",
    "worker",
    "request",
    "response",
    "client",
    "server",
    "library",
    "framework",
    "module",
    "package",
    "build",
    "deploy",
    "rollback",
    "incident",
    "alert",
    "dashboard",
    "trace",
    "log",
    "profile",
    "benchmark",
    "regression",
    "test",
    "fixture",
    "user",
    "customer",
    "developer",
    "operator",
    "maintainer",
    "community",
    "volunteer",
    "workshop",
    "example",
    "story",
    "simple",
    "careful",
    "fast",
    "slow",
    "reliable",
    "fragile",
    "boring",
    "surprising",
    "hidden",
    "obvious",
    "small",
    "large",
    "legacy",
    "modern",
    "shared",
    "local",
    "remote",
    "async",
    "typed",
    "dynamic",
    "measure",
    "ship",
    "debug",
    "refactor",
    "document",
    "review",
    "automate",
    "observe",
    "scale",
    "simplify",
    "explain",
    "compare",
    "replace",
    "design",
    "teach",
    "learn",
    "avoid",
    "survive",
    "rebuild",
    "migrate",
    "production",
    "staging",
    "laptop",
    "cluster",
    "pipeline",
    "notebook",
    "terminal",
    "editor",
    "browser",
    "network",
)
CODE_WORDS = (
    "asyncio.gather",
    "SELECT ... FOR UPDATE",
    "git bisect",
    "EXPLAIN ANALYZE",
    "kubectl rollout undo",
    "fsync",
    "Cache-Control",
    "cargo build --release",
    "pytest -x",
    "strace -f",
    "O(n log n)",
    "useEffect",
    "@media (prefers-reduced-motion)",
    "tokio::spawn",
    "COPY FROM STDIN",
    "perf record",
)
LINK_HOSTS = ("blog.example.org", "docs.example.net", "slides.example.org", "code.example.com")
MEDIA_HOSTS = {"video": "video.example.org", "slides": "slides.example.org", "code": "code.example.com"}


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:80] or "x"


def unique(slug: str, taken: set[str]) -> str:
    """``slug``, or ``slug-2``, ``slug-3``... whichever is free; recorded in ``taken``."""
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug[:95]}-{n}"
    taken.add(candidate)
    return candidate


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def utc_stamp(day: date, rng: Random) -> str:
    return f"{day.isoformat()}T{rng.randrange(8, 19):02d}:{rng.randrange(60):02d}:00+00:00"


def sentence(rng: Random, words: int) -> str:
    chosen = [rng.choice(WORDS) for _ in range(words)]
    return chosen[0].capitalize() + " " + " ".join(chosen[1:]) + "."


def abstract(rng: Random, title: str, slug: str) -> str:
    """~150 words of Markdown: two paragraphs with *emphasis*, `code` and a link."""
    first = [f"This talk is about {title.lower()}."]
    first += [sentence(rng, rng.randrange(9, 15)) for _ in range(6)]
    emphasis = rng.randrange(1, len(first))
    words = first[emphasis].split(" ")
    k = rng.randrange(len(words) - 1)
    words[k] = f"*{words[k]}*"
    first[emphasis] = " ".join(words)
    second = [sentence(rng, rng.randrange(9, 15)) for _ in range(5)]
    second.insert(1, f"Expect live demos of `{rng.choice(CODE_WORDS)}` and what happens when it goes wrong.")
    host = rng.choice(LINK_HOSTS)
    second.append(f"Background reading: [the write-up](https://{host}/{slug}/).")
    return " ".join(first) + "\n\n" + " ".join(second)


def make_series(seed: str) -> list[dict[str, Any]]:
    rng = Random(f"{seed}:series")
    out = []
    for i, (name, what) in enumerate(SERIES):
        out.append(
            {
                "id": f"ser_{i:04d}",
                "slug": slugify(name),
                "name": name,
                "description": f"**{name}** is {what}, held every year since {FIRST_YEAR + i}.\n\n"
                f"Talks are *recorded* and published for free; read the "
                f"[code of conduct](https://{slugify(name)}.example.org/conduct/) before you come.",
                "updated_at": utc_stamp(date(2026, 10, 1), rng),
            }
        )
    return out


def make_venues(seed: str) -> list[dict[str, Any]]:
    rng = Random(f"{seed}:venues")
    return [
        {
            "id": f"ven_{i:04d}",
            "slug": slugify(f"{name} {city}"),
            "name": name,
            "city": city,
            "country": country,
            "lat": lat,
            "lon": lon,
            "updated_at": utc_stamp(date(2026, 9, 15), rng),
        }
        for i, (name, city, country, _tz, lat, lon) in enumerate(VENUES)
    ]


def make_topics(seed: str) -> list[dict[str, Any]]:
    rng = Random(f"{seed}:topics")
    names = [f"{subject} {facet}".strip() for facet in FACETS for subject in SUBJECTS][:TOPIC_COUNT]
    return [
        {"id": f"top_{i:04d}", "slug": slugify(name), "name": name, "updated_at": utc_stamp(date(2026, 8, 1), rng)}
        for i, name in enumerate(names)
    ]


def make_people(seed: str, count: int) -> list[dict[str, Any]]:
    rng = Random(f"{seed}:people")
    pairs = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(pairs)
    taken: set[str] = set()
    people = []
    for i in range(count):
        first, last = pairs[i % len(pairs)]
        name = f"{first} {last}" if i < len(pairs) else f"{first} {chr(65 + (i // len(pairs)) % 26)}. {last}"
        slug = unique(slugify(name), taken)
        city = rng.choice(VENUES)[1]
        kind = rng.randrange(4)
        if kind == 0:
            bio = None
        else:
            company = rng.choice(COMPANIES)
            bio = (
                f"{rng.choice(JOBS).capitalize()} at **{company}** in {city}. "
                f"Spends most days on {rng.choice(SUBJECTS)} and most evenings on {rng.choice(SUBJECTS)}."
            )
            if kind >= 2:
                bio += f" Away from the keyboard: {rng.choice(HOBBIES)}."
            if kind == 3:
                bio += f" Co-organises the [{city} meetup](https://meetup.example.org/{slugify(city)}/)."
        links = []
        if rng.random() < 0.6:
            links.append({"kind": "website", "url": f"https://{slug.replace('-', '')}.example.org/"})
        if rng.random() < 0.4:
            links.append({"kind": "mastodon", "url": f"https://mastodon.example.net/@{slug.replace('-', '')}"})
        people.append(
            {
                "id": f"per_{i:06d}",
                "slug": slug,
                "name": name,
                "bio": bio,
                "links": links,
                "avatar_url": None,
                "updated_at": utc_stamp(date(2026, 10, 1) + timedelta(days=rng.randrange(40)), rng),
            }
        )
    return people


def make_events(seed: str, count: int, series: list[dict[str, Any]], venues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rng = Random(f"{seed}:events")
    first, last = date(FIRST_YEAR, 1, 15), date(LAST_YEAR, 12, 10)
    span = (last - first).days
    taken_by_year: dict[int, set[str]] = {}
    events = []
    for i in range(count):
        start = first + timedelta(days=(span * i) // max(1, count - 1) if count > 1 else 0)
        days = rng.choice((1, 2, 2, 3))
        end = start + timedelta(days=days - 1)
        venue_index = rng.randrange(len(venues))
        venue, city, tz = venues[venue_index], VENUES[venue_index][1], VENUES[venue_index][3]
        ser = series[rng.randrange(len(series))] if rng.random() < 0.7 else None
        base = ser["name"] if ser else rng.choice(STANDALONE_PREFIXES)
        name = f"{base} {city} {start.year}"
        slug = unique(slugify(f"{base} {city}"), taken_by_year.setdefault(start.year, set()))
        events.append(
            {
                "id": f"evt_{i:05d}",
                "slug": slug,
                "name": name,
                "series": ser["id"] if ser else None,
                "venue": venue["id"],
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "timezone": tz,
                "url": f"https://{slugify(base)}.example.org/{start.year}/{slug}/",
                "description": f"{name}: {days} day{'s' if days > 1 else ''} of talks in {city}, "
                f"with a *hallway track* and an evening social.\n\n{sentence(rng, 14)}",
                "topics": [],
                "updated_at": utc_stamp(end + timedelta(days=rng.randrange(7, 30)), rng),
            }
        )
    return events


def make_sessions(
    seed: str, count: int, events: list[dict[str, Any]], people: list[dict[str, Any]], topics: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rng = Random(f"{seed}:sessions")
    speaker_order = list(range(len(people)))
    rng.shuffle(speaker_order)
    sessions = []
    event_topics: dict[int, dict[str, int]] = {}
    for i in range(count):
        e = i // SESSIONS_PER_EVENT
        event = events[e]
        slot_in_event = i % SESSIONS_PER_EVENT
        if slot_in_event == 0:
            taken: set[str] = set()
        start_date = date.fromisoformat(event["start_date"])
        days = (date.fromisoformat(event["end_date"]) - start_date).days + 1
        per_day = -(-SESSIONS_PER_EVENT // days)
        day, index = divmod(slot_in_event, per_day)
        slot, room = divmod(index, len(ROOMS))
        tz = ZoneInfo(event["timezone"])
        begin = datetime.combine(start_date + timedelta(days=day), datetime.min.time(), tz).replace(hour=DAY_START_HOUR) + timedelta(
            minutes=SLOT_MINUTES * slot
        )
        finish = begin + timedelta(minutes=SLOT_MINUTES - 5)
        subject = rng.choice(SUBJECTS)
        title = rng.choice(TITLE_TEMPLATES).format(
            verb=rng.choice(TITLE_VERBS),
            verb_l=rng.choice(TITLE_VERBS).lower(),
            noun=rng.choice(TITLE_NOUNS),
            adj=rng.choice(TITLE_ADJECTIVES),
            adj_l=rng.choice(TITLE_ADJECTIVES).lower(),
            subject=subject,
            n=rng.randrange(2, 21),
        )
        slug = unique(slugify(title), taken)
        speakers = [people[speaker_order[i % len(people)]]["id"]] if people else []
        if people and rng.random() < 0.5:
            other = people[rng.randrange(len(people))]["id"]
            if other not in speakers:
                speakers.append(other)
        chosen = [topics[k]["id"] for k in sorted(rng.sample(range(len(topics)), TOPICS_PER_SESSION))]
        for t in chosen:
            event_topics.setdefault(e, {})
            event_topics[e][t] = event_topics[e].get(t, 0) + 1
        media = []
        if rng.random() < 0.6:
            media.append(
                {"kind": "video", "title": "Recording", "url": f"https://{MEDIA_HOSTS['video']}/{event['slug']}-{start_date.year}/{slug}"}
            )
        if rng.random() < 0.4:
            media.append({"kind": "slides", "url": f"https://{MEDIA_HOSTS['slides']}/{event['slug']}/{slug}"})
        sessions.append(
            {
                "id": f"ses_{i:06d}",
                "slug": slug,
                "event": event["id"],
                "title": title,
                "abstract": abstract(rng, title, slug),
                "start": stamp(begin),
                "end": stamp(finish),
                "room": ROOMS[room],
                "speakers": speakers,
                "topics": chosen,
                "media": media,
                "updated_at": event["updated_at"],
            }
        )
    for e, counts in event_topics.items():  # an event's topics: its sessions' most common three
        events[e]["topics"] = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    return sessions


def generate(sessions: int, seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    if sessions < 1:
        raise ValueError("--sessions must be at least 1")
    s = f"sitegen-bench:{seed}"
    series, venues, topics = make_series(s), make_venues(s), make_topics(s)
    people = make_people(s, max(1, sessions // 3))
    events = make_events(s, -(-sessions // SESSIONS_PER_EVENT), series, venues)
    talks = make_sessions(s, sessions, events, people, topics)
    return {"series": series, "venues": venues, "topics": topics, "people": people, "events": events, "sessions": talks}


def dump(items: list[dict[str, Any]]) -> bytes:
    return (json.dumps({"data": items, "next": None}, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


SITEGEN_TOML = f"""# Written by bench/gen.py: a synthetic archive for benchmarks.
[site]
title = "Synthetic conference archive"
base_url = "{BASE_URL}"

[source]
url = "data"
"""


#: sitegen's default [source] max_response_bytes, which also bounds a local collection file.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def write(out: Path, collections: dict[str, list[dict[str, Any]]]) -> None:
    (out / "data").mkdir(parents=True, exist_ok=True)
    files = {name: dump(collections[name]) for name in COLLECTIONS}
    largest = max(len(data) for data in files.values())
    toml = SITEGEN_TOML
    if largest > DEFAULT_MAX_BYTES:  # 100,000 sessions make a 186 MB sessions.json: raise the bound to fit
        toml += f"max_response_bytes = {-(-largest * 2 // (1 << 20)) << 20}\n"
    (out / "sitegen.toml").write_bytes(toml.encode())
    for name, data in files.items():
        (out / "data" / f"{name}.json").write_bytes(data)


def _toml(value: Any) -> str:
    """A TOML value: JSON's string escapes are TOML basic-string escapes."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def _front_matter(top: list[tuple[str, str]], params: list[tuple[str, Any]]) -> str:
    """Hugo TOML front matter: ``top`` keys written as given (raw TOML), ``params`` under [params]."""
    lines = ["+++"] + [f"{k} = {v}" for k, v in top]
    if params:
        lines.append("[params]")
        lines += [f"{k} = {_toml(v)}" for k, v in params if v is not None]
    return "\n".join(lines + ["+++", ""])


def _prepare_site(out: Path, form: str) -> None:
    """Copy bench/sites/<form>/ into ``out`` and empty ``out/content``. ``out`` must be missing, empty,
    or a site of that form this script wrote: never someone else's folder."""
    marker = {"hugo": "hugo.toml", "pelican": "pelicanconf.py"}[form]
    if out.exists() and any(out.iterdir()):
        mine = (out / marker).is_file() and (out / marker).read_text(encoding="utf-8").startswith("# Copied by bench/gen.py")
        if not mine:
            raise SystemExit(f"{out} is not empty and is not a {form} site written by bench/gen.py: not writing into it")
    if (out / "content").exists():
        shutil.rmtree(out / "content")
    shutil.copytree(SITES / form, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _write_files(files: dict[Path, str]) -> None:
    for path in sorted({f.parent for f in files}):
        path.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_bytes(text.encode())


def _lookups(c: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, Any], ...]:
    return tuple({x["id"]: x for x in c[name]} for name in ("series", "venues", "topics", "people", "events"))


def write_hugo(out: Path, c: dict[str, list[dict[str, Any]]]) -> None:
    """A Hugo site with the archive's pages: a year is a section (``content/<year>/``), an event a
    section below it (``content/<year>/<event>/_index.md``: details in front matter, description
    as content), a session a page in its event (``ses_*.md``: abstract as content), and people and
    topics are taxonomies whose term pages (``content/people/<slug>/_index.md``) carry the name,
    bio and links. URLs are sitegen's: /2024/<event>/<session>/, /2024/, /people/<slug>/, /topics/<slug>/."""
    series, venues, topics, people, events = _lookups(c)
    _prepare_site(out, "hugo")
    root = out / "content"
    files: dict[Path, str] = {root / "_index.md": _front_matter([("title", _toml("Synthetic conference archive"))], [])}
    files[root / "people" / "_index.md"] = _front_matter([("title", _toml("People"))], [])
    files[root / "topics" / "_index.md"] = _front_matter([("title", _toml("Topics"))], [])
    for p in c["people"]:
        files[root / "people" / p["slug"] / "_index.md"] = (
            _front_matter([("title", _toml(p["name"]))], [("id", p["id"]), ("links", p["links"] or None)]) + (p["bio"] or "") + "\n"
        )
    for tp in c["topics"]:
        files[root / "topics" / tp["slug"] / "_index.md"] = _front_matter([("title", _toml(tp["name"]))], [("id", tp["id"])])
    for year in sorted({e["start_date"][:4] for e in c["events"]}):
        files[root / year / "_index.md"] = _front_matter([("title", _toml(year)), ("date", f"{year}-01-01")], [("kind", "year")])
    for e in c["events"]:
        v = venues.get(e["venue"] or "")
        files[root / e["start_date"][:4] / e["slug"] / "_index.md"] = (
            _front_matter(
                [("title", _toml(e["name"])), ("date", e["start_date"])],
                [
                    ("kind", "event"),
                    ("id", e["id"]),
                    ("start_date", e["start_date"]),
                    ("end_date", e["end_date"]),
                    ("timezone", e["timezone"]),
                    ("venue", v["name"] if v else None),
                    ("city", v["city"] if v else None),
                    ("country", v["country"] if v else None),
                    ("series", series[e["series"]]["name"] if e["series"] else None),
                    ("url", e["url"]),
                    ("topics", [topics[t]["slug"] for t in e["topics"]]),
                ],
            )
            + (e["description"] or "")
            + "\n"
        )
    for s in c["sessions"]:
        e = events[s["event"]]
        files[root / e["start_date"][:4] / e["slug"] / f"{s['id']}.md"] = (
            _front_matter(
                [
                    ("title", _toml(s["title"])),
                    ("slug", _toml(s["slug"])),
                    ("date", s["start"]),
                    ("people", _toml([people[x]["slug"] for x in s["speakers"]])),
                    ("topics", _toml([topics[x]["slug"] for x in s["topics"]])),
                ],
                [
                    ("id", s["id"]),
                    ("end", s["end"]),
                    ("room", s["room"]),
                    ("media", [{k: m[k] for k in ("kind", "title", "url") if m.get(k)} for m in s["media"]] or None),
                ],
            )
            + (s["abstract"] or "")
            + "\n"
        )
    _write_files(files)


def write_pelican(out: Path, c: dict[str, list[dict[str, Any]]]) -> None:
    """A Pelican site with the archive's pages: a session is an article
    (``content/sessions/ses_*.md``, abstract as content), its event the category
    ``<year>/<event slug>``, its speakers the authors, its topics the tags; year archives are on.
    What a category or an author cannot hold goes to ``events.json`` (by category) and
    ``people.json`` (by name), which pelicanconf.py loads for the templates."""
    series, venues, topics, people, events = _lookups(c)
    _prepare_site(out, "pelican")
    root = out / "content" / "sessions"
    files: dict[Path, str] = {}
    event_data = {}
    for e in c["events"]:
        v = venues.get(e["venue"] or "")
        event_data[f"{e['start_date'][:4]}/{e['slug']}"] = {
            "id": e["id"],
            "name": e["name"],
            "start_date": e["start_date"],
            "end_date": e["end_date"],
            "timezone": e["timezone"],
            "venue": v["name"] if v else None,
            "city": v["city"] if v else None,
            "country": v["country"] if v else None,
            "series": series[e["series"]]["name"] if e["series"] else None,
            "url": e["url"],
            "description": e["description"],
            "topics": [topics[t]["name"] for t in e["topics"]],
            "topic_slugs": [topics[t]["slug"] for t in e["topics"]],
        }
    person_data = {p["name"]: {"id": p["id"], "slug": p["slug"], "bio": p["bio"], "links": p["links"]} for p in c["people"]}
    for s in c["sessions"]:
        e = events[s["event"]]
        meta = [
            ("Title", s["title"]),
            ("Slug", s["slug"]),
            ("Date", s["start"]),
            ("End", s["end"]),
            ("Category", f"{e['start_date'][:4]}/{e['slug']}"),
            ("Authors", ", ".join(people[x]["name"] for x in s["speakers"])),
            ("Tags", ", ".join(topics[x]["name"] for x in s["topics"])),
            ("Room", s["room"]),
            ("Id", s["id"]),
        ]
        for m in s["media"]:
            meta.append((m["kind"].capitalize(), m["url"]))
            if m.get("title"):
                meta.append((f"{m['kind'].capitalize()}_title", m["title"]))
        files[root / f"{s['id']}.md"] = "".join(f"{k}: {v}\n" for k, v in meta if v) + "\n" + (s["abstract"] or "") + "\n"
    files[out / "events.json"] = json.dumps(event_data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    files[out / "people.json"] = json.dumps(person_data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    _write_files(files)


def write_form(out: Path, collections: dict[str, list[dict[str, Any]]], form: str = "api") -> None:
    """Write ``collections`` as ``form`` into ``out``; ``all``: each form into ``out/<form>/``."""
    if form == "all":
        for f in FORMS:
            write_form(out / f, collections, f)
        return
    {"api": write, "hugo": write_hugo, "pelican": write_pelican}[form](out, collections)


def detect_form(out: Path) -> str:
    for form, marker in (("api", "sitegen.toml"), ("hugo", "hugo.toml"), ("pelican", "pelicanconf.py")):
        if (out / marker).is_file():
            return form
    if all((out / f).is_dir() for f in FORMS):
        return "all"
    raise SystemExit(f"{out} holds no archive written by bench/gen.py (no sitegen.toml, hugo.toml or pelicanconf.py)")


def retitle(title: str, mode: str = "same-length") -> str:
    """A deterministic edit of ``title``: longer, or the same length with one title word
    (a verb, else a noun, else an adjective) swapped for another of the same group and length."""
    if mode == "longer":
        return f"{title} (updated)"
    if mode != "same-length":
        raise ValueError(f"unknown title change {mode!r}")
    words = title.split(" ")
    for group in (TITLE_VERBS, TITLE_NOUNS, TITLE_ADJECTIVES):
        known = {w.lower() for w in group if w.isalpha()}
        for k, word in enumerate(words):
            core = word.rstrip(":,")
            if core.lower() not in known or not (core.islower() or core.istitle()):
                continue
            options = sorted(w for w in known if len(w) == len(core) and w != core.lower())
            if options:
                words[k] = (options[0].capitalize() if core.istitle() else options[0]) + word[len(core) :]
                return " ".join(words)
    return title.swapcase()  # no template gets here


def touch_one(out: Path, mode: str = "same-length", form: str | None = None) -> dict[str, Any]:
    """Change the title of the session with the smallest id: in ``out/data/sessions.json`` (API form)
    or in its Markdown file (Hugo, Pelican); ``form`` is detected from ``out`` unless given, and
    ``all`` changes each of ``out/{api,hugo,pelican}`` and returns the three results by form.
    Returns {"id", "slug", "event", "old_title", "new_title", "route"} (and "file" for Hugo and
    Pelican). Only that field changes."""
    form = form or detect_form(out)
    if form == "all":
        return {f: touch_one(out / f, mode, f) for f in FORMS}
    if form == "hugo":
        return _touch_markdown(out, sorted((out / "content").glob("*/*/ses_*.md")), mode, "title = ", True)
    if form == "pelican":
        return _touch_markdown(out, sorted((out / "content" / "sessions").glob("ses_*.md")), mode, "Title: ", False)
    path = out / "data" / "sessions.json"
    body = json.loads(path.read_bytes())
    session = min(body["data"], key=lambda s: s["id"])
    old = session["title"]
    session["title"] = retitle(old, mode)
    path.write_bytes(dump(body["data"]))
    events = json.loads((out / "data" / "events.json").read_bytes())["data"]
    event = next(e for e in events if e["id"] == session["event"])
    route = f"{event['start_date'][:4]}/{event['slug']}/{session['slug']}/"
    return {
        "id": session["id"],
        "slug": session["slug"],
        "event": event["id"],
        "old_title": old,
        "new_title": session["title"],
        "route": route,
    }


def _touch_markdown(out: Path, candidates: list[Path], mode: str, prefix: str, toml: bool) -> dict[str, Any]:
    """Retitle the session file with the smallest id (file names are ``<id>.md``): one line changes."""
    if not candidates:
        raise SystemExit(f"{out} has no session files")
    path = min(candidates, key=lambda p: p.stem)
    lines = path.read_text(encoding="utf-8").split("\n")
    k = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    old = json.loads(lines[k][len(prefix) :]) if toml else lines[k][len(prefix) :]
    new = retitle(old, mode)
    lines[k] = prefix + (_toml(new) if toml else new)
    path.write_bytes("\n".join(lines).encode())
    if toml:  # content/<year>/<event>/<id>.md with slug = "..."
        slug = json.loads(next(line for line in lines if line.startswith("slug = "))[len("slug = ") :])
        year, event = path.parent.parent.name, path.parent.name
    else:  # Category: <year>/<event>, Slug: ...
        meta = dict(line.split(": ", 1) for line in lines[: lines.index("")])
        slug, (year, event) = meta["Slug"], meta["Category"].split("/")
    return {
        "id": path.stem,
        "slug": slug,
        "event": f"{year}/{event}",
        "old_title": old,
        "new_title": new,
        "route": f"{year}/{event}/{slug}/",
        "file": path.relative_to(out).as_posix(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, help="number of sessions (40 per event, N/3 people)")
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder (api: gets sitegen.toml and data/; all: gets api/, hugo/ and pelican/)"
    )
    parser.add_argument(
        "--form",
        choices=(*FORMS, "all"),
        help="api (default), hugo, pelican, or all three in subfolders; with --touch-one: detected from --out",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--touch-one", action="store_true", help="instead of generating: change the title of the session with the smallest id in --out"
    )
    parser.add_argument(
        "--title-change",
        choices=("same-length", "longer"),
        default="same-length",
        help="with --touch-one: keep the title's length (default) or make it longer",
    )
    args = parser.parse_args(argv)
    if args.touch_one:
        print(json.dumps(touch_one(args.out, args.title_change, args.form), ensure_ascii=False))
        return 0
    if args.sessions is None:
        parser.error("--sessions is required (unless --touch-one)")
    collections = generate(args.sessions, args.seed)
    write_form(args.out, collections, args.form or "api")
    print(", ".join(f"{len(collections[c])} {c}" for c in COLLECTIONS) + f" -> {args.out} ({args.form or 'api'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
