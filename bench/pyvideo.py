#!/usr/bin/env python3
"""A checkout of github.com/pyvideo/data (CC0, about 21,700 talks) as the API's folder form.

    python bench/pyvideo.py --data /tmp/pyvideo-data --out /tmp/pyvideo [--updated-at RFC3339]
    .venv/bin/sitegen build --root /tmp/pyvideo --today 2026-11-22

Writes ``OUT/sitegen.toml`` (``[build] strict = false``), ``OUT/data/<collection>.json``
(contract v1) and ``OUT/pyvideo-report.json`` (what was dropped or fixed, counted). The map:

* a category folder (one with ``category.json``) is an event, or one event per recorded
  year when neither its folder nor its title names a year (meetups: ``chipy``); every
  folder with the same name once its years are removed (``djangocon-2013``,
  ``djangocon-2014``) belongs to one series. Events are all-day (``timezone = "UTC"``)
  and span the recorded dates of their talks; pyvideo has no venues;
* a video file is a session: title; summary, description and abstract (in that order,
  repeats left out) as the Markdown abstract; ``recorded`` as ``date``; speakers as people
  (one person per name, compared without case and extra spaces; slugs made unique);
  tags as topics (likewise); ``videos`` as ``video`` media; ``related_urls`` as slides,
  code, notes or other media by their label and host; ``language`` is kept (an unknown
  key to the contract). Talks listed in the checkout's ``NO_PUBLISH.json`` are left out.

Deterministic: files are read in sorted order, every choice is made on sorted keys and the
JSON is written with sorted keys, so the same checkout gives byte-identical files. Only the
standard library (and ``gen.py``'s slug helpers) are used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen  # noqa: E402

UPDATED_AT = "2026-01-01T00:00:00+00:00"
YEAR_RE = re.compile(r"(?<![0-9])(19[5-9][0-9]|20[0-9][0-9])(?![0-9])")
DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
PLACEHOLDER_SPEAKERS = {"", "various", "unknown", "tbd", "tba", "n/a", "none", "anonymous", "et al", "et al."}
MAX_LIST = 100  # the contract's limit on a session's speakers, topics and media
SLIDE_HOSTS = ("speakerdeck.com", "slideshare.net", "slides.com", "docs.google.com/presentation", "prezi.com")
CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "gist.github.com", "codeberg.org")
SITEGEN_TOML = f"""# Written by bench/pyvideo.py from a checkout of github.com/pyvideo/data (CC0).
[site]
title = "PyVideo archive"
base_url = "{gen.BASE_URL}"

[source]
url = "data"

[build]
strict = false
"""


@dataclass
class Counts:
    """What the conversion dropped or fixed, by reason (written to pyvideo-report.json)."""

    dropped: Counter[str] = field(default_factory=Counter)
    fixed: Counter[str] = field(default_factory=Counter)


def norm(text: Any) -> str:
    """``text`` as one line: NFC, whitespace collapsed; "" for a non-string."""
    return " ".join(unicodedata.normalize("NFC", text).split()) if isinstance(text, str) else ""


def fallback_slug(prefix: str, text: str) -> str:
    """``gen.slugify`` of ``text``, or (for text with no ASCII letters, such as CJK names) a stable hashed slug."""
    slug = gen.slugify(text)
    if slug == "x" and not re.search(r"[A-Za-z0-9]", text):
        return f"{prefix}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"
    return slug


def years_named(*texts: str) -> list[int]:
    return sorted({int(y) for t in texts for y in YEAR_RE.findall(t)})


def recorded_date(video: dict[str, Any], counts: Counts) -> str | None:
    """``recorded`` as YYYY-MM-DD (its date part when it carries a time), or None."""
    raw = video.get("recorded")
    m = DATE_RE.match(raw) if isinstance(raw, str) else None
    if not m:
        counts.fixed["session without a recorded date (placed on its event's first day)"] += 1
        return None
    if len(m.string) > 10:
        counts.fixed["recorded time dropped (date kept: pyvideo times have no reliable offset)"] += 1
    return m.group(0)


class Registry:
    """People or topics by a case- and space-insensitive key; the most used spelling names each."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.spellings: dict[str, Counter[str]] = {}

    def add(self, name: str) -> str:
        key = name.casefold()
        self.spellings.setdefault(key, Counter())[name] += 1
        return key

    def objects(self, extra: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The objects (sorted by id) and a map from key to id; slugs unique in key order."""
        taken: set[str] = set()
        out, ids = [], {}
        for key in sorted(self.spellings):
            name = min(self.spellings[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]
            slug = gen.unique(fallback_slug(self.prefix, name), taken)
            ids[key] = f"{self.prefix}-{slug}"
            out.append({"id": ids[key], "slug": slug, "name": name, **extra, "updated_at": UPDATED_AT})
        return sorted(out, key=lambda o: o["id"]), ids


def speaker_names(video: dict[str, Any], counts: Counts) -> list[str]:
    names: list[str] = []
    for raw in video.get("speakers") or []:
        name = norm(raw)
        if name.casefold() in PLACEHOLDER_SPEAKERS:
            counts.dropped["speaker that is empty or a placeholder (Various, Unknown...)"] += 1
        elif name.casefold() in {n.casefold() for n in names}:
            counts.fixed["speaker listed twice on one talk"] += 1
        else:
            if name != raw:
                counts.fixed["speaker name with extra or odd whitespace"] += 1
            names.append(name)
    return names


def media_kind(label: str, url: str) -> str:
    low, where = label.casefold(), url.split("://", 1)[-1].casefold()
    if "slide" in low or any(where.startswith(h) or where.startswith("www." + h) for h in SLIDE_HOSTS):
        return "slides"
    if any(where.startswith(h) or where.startswith("www." + h) for h in CODE_HOSTS):
        return "code"
    if any(w in low for w in ("notes", "paper", "proceedings", "blog", "article")):
        return "notes"
    return "other"


def media(video: dict[str, Any], counts: Counts) -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    seen: set[str] = set()
    links = [("video", v.get("url"), "") for v in video.get("videos") or [] if isinstance(v, dict)]
    for rel in video.get("related_urls") or []:
        url, label = (rel.get("url"), norm(rel.get("label"))) if isinstance(rel, dict) else (rel, "")
        links.append(("", url, label))
    for kind, url, label in links:
        url = url.strip() if isinstance(url, str) else ""
        if not re.match(r"https?://[^/\s]+", url) or any(c.isspace() for c in url):
            counts.dropped["media or related URL that is not http(s)"] += 1
            continue
        if url in seen:
            counts.fixed["media URL listed twice on one talk"] += 1
            continue
        seen.add(url)
        item = {"kind": kind or media_kind(label, url), "url": url}
        if label and label != url:
            item["title"] = label[:200]
        items.append(item)
    if len(items) > MAX_LIST:
        counts.dropped[f"media beyond the contract's {MAX_LIST} per talk"] += len(items) - MAX_LIST
    return items[:MAX_LIST]


def abstract(video: dict[str, Any]) -> str | None:
    parts: list[str] = []
    for key in ("summary", "description", "abstract"):
        text = video.get(key)
        if isinstance(text, str) and text.strip() and not any(text.strip() in p for p in parts):
            parts.append(text.strip())
    return "\n\n".join(parts) or None


@dataclass
class Category:
    folder: str
    title: str
    description: str | None
    url: str | None
    start_date: str | None
    videos: list[tuple[str, dict[str, Any]]]  # (file stem, the JSON), sorted by stem


def read_checkout(data: Path, counts: Counts) -> list[Category]:
    """Every category folder, its videos sorted by file name; unreadable files counted and skipped."""
    hidden: set[Any] = set()
    if (data / "NO_PUBLISH.json").exists():
        hidden = set(json.loads((data / "NO_PUBLISH.json").read_text(encoding="utf-8")))
    categories = []
    for folder in sorted(p for p in data.iterdir() if (p / "category.json").is_file()):
        meta = json.loads((folder / "category.json").read_text(encoding="utf-8"))
        videos = []
        for path in sorted((folder / "videos").glob("*.json")):
            try:
                video = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                counts.dropped["video file that is not JSON"] += 1
                continue
            if not isinstance(video, dict):
                counts.dropped["video file that is not a JSON object"] += 1
            elif video.get("id") in hidden and video.get("id") is not None:
                counts.dropped["talk listed in NO_PUBLISH.json"] += 1
            else:
                videos.append((path.stem, video))
        if not videos:
            counts.dropped["category with no videos"] += 1
            continue
        categories.append(
            Category(
                folder.name,
                norm(meta.get("title")) or folder.name,
                meta.get("description") or None,
                meta["url"].strip() if isinstance(meta.get("url"), str) and meta["url"].strip() else None,
                meta.get("start_date") if isinstance(meta.get("start_date"), str) else None,
                videos,
            )
        )
    return categories


def split_by_year(cat: Category, counts: Counts) -> dict[int | None, list[tuple[str, dict[str, Any], str | None]]]:
    """The category's videos by the event they go to: one event (key None) when the folder or title
    names its years, else one per recorded year (undated talks join the latest year)."""
    dated = [(stem, video, recorded_date(video, counts)) for stem, video in cat.videos]
    if years_named(cat.folder, cat.title):
        return {None: dated}
    groups: dict[int | None, list[tuple[str, dict[str, Any], str | None]]] = {}
    years = sorted({int(d[:4]) for _, _, d in dated if d})
    for item in dated:
        groups.setdefault(int(item[2][:4]) if item[2] else (years[-1] if years else None), []).append(item)
    if len(groups) > 1:
        counts.fixed["yearless category split into one event per recorded year"] += 1
    return groups


def series_key(folder: str) -> str:
    return re.sub(r"-{2,}", "-", YEAR_RE.sub("", folder)).strip("-_") or folder


def event_dates(cat: Category, year: int | None, dates: list[str], counts: Counts) -> tuple[str, str] | None:
    """(start_date, end_date): the span of the talks' dates within the years the event covers."""
    named = years_named(cat.folder, cat.title)
    span = range(named[0], named[-1] + 1) if year is None and named else range(year or 0, (year or 9999) + 1)
    inside = sorted(d for d in dates if int(d[:4]) in span)
    if len(inside) < len(dates):
        counts.fixed["talk recorded outside its event's year (kept in the event)"] += len(dates) - len(inside) if inside else 0
    if inside:
        return inside[0], inside[-1]
    if dates:
        counts.fixed["event whose talks all fall outside the year it names: dated by its talks"] += 1
        return min(dates), max(dates)
    if cat.start_date and DATE_RE.fullmatch(cat.start_date):
        return cat.start_date, cat.start_date
    if span.start > 0 and span.stop < 10000:
        counts.fixed["event with no dated talk: dated 1 January of the year it names"] += 1
        return f"{span.start}-01-01", f"{span.start}-01-01"
    return None


def make_session(stem: str, video: dict[str, Any], event: dict[str, Any], day: str | None, ctx: dict[str, Any]) -> dict[str, Any]:
    counts: Counts = ctx["counts"]
    title = norm(video.get("title"))
    if not title:
        title = stem.replace("-", " ")
        counts.fixed["talk without a title (named from its file)"] += 1
    slug = gen.unique(fallback_slug("talk", stem), ctx["taken"])
    if slug != gen.slugify(stem):
        counts.fixed["talk slug made unique or ASCII within its event"] += 1
    sid = f"ses-{event['slug']}-{event['start_date'][:4]}-{slug}"
    speakers = [ctx["people"].add(n) for n in speaker_names(video, counts)]
    tags = [norm(t) for t in video.get("tags") or [] if isinstance(t, str)]
    topics = list(dict.fromkeys(ctx["topics"].add(t) for t in tags if t))
    if len(topics) < len(tags):
        counts.fixed["tag that is empty or repeated on one talk"] += len(tags) - len(topics)
    session = {"id": sid, "slug": slug, "event": event["id"], "title": title, "abstract": abstract(video)}
    session |= {"date": day or event["start_date"], "start": None, "end": None, "room": None}
    session |= {"speakers": speakers[:MAX_LIST], "topics": topics[:MAX_LIST], "media": media(video, counts)}
    language = video.get("language")
    return session | {"language": language if isinstance(language, str) else None, "updated_at": UPDATED_AT}


def convert(categories: list[Category], counts: Counts) -> dict[str, list[dict[str, Any]]]:
    people, topics = Registry("per"), Registry("top")
    series: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    sessions: list[dict[str, Any]] = []
    slugs_by_year: dict[str, set[str]] = {}
    for cat in categories:
        key = series_key(cat.folder)
        base = re.sub(r"\s{2,}", " ", YEAR_RE.sub("", cat.title)).strip(" -–:") or cat.title
        ser = series.setdefault(key, {"id": f"ser-{gen.slugify(key)}", "slug": gen.slugify(key), "name": base, "updated_at": UPDATED_AT})
        ser["name"] = base  # the latest edition's name (folders are read in sorted order)
        for year, talks in sorted(split_by_year(cat, counts).items(), key=lambda kv: kv[0] or 0):
            span = event_dates(cat, year, [d for _, _, d in talks if d], counts)
            if span is None:
                counts.dropped["talk whose event has no date at all"] += len(talks)
                continue
            slug = gen.unique(gen.slugify(key), slugs_by_year.setdefault(span[0][:4], set()))
            name = cat.title if year is None or str(year) in cat.title else f"{cat.title} {year}"
            event = {"id": f"evt-{cat.folder}" + (f"-{year}" if year else ""), "slug": slug, "name": name, "series": ser["id"]}
            event |= {"venue": None, "start_date": span[0], "end_date": span[1], "timezone": "UTC", "url": cat.url}
            events.append(event | {"description": cat.description, "topics": [], "updated_at": UPDATED_AT})
            ctx = {"counts": counts, "taken": set(), "people": people, "topics": topics}
            sessions += [make_session(stem, video, event, day, ctx) for stem, video, day in talks]
    person_list, person_ids = people.objects({"bio": None, "links": [], "avatar_url": None})
    topic_list, topic_ids = topics.objects({})
    for s in sessions:
        s["speakers"] = [person_ids[k] for k in s["speakers"]]
        s["topics"] = [topic_ids[k] for k in s["topics"]]
    return {
        "series": sorted(series.values(), key=lambda o: o["id"]),
        "venues": [],
        "topics": topic_list,
        "people": person_list,
        "events": sorted(events, key=lambda o: o["id"]),
        "sessions": sorted(sessions, key=lambda o: o["id"]),
    }


def write_archive(data: Path, out: Path) -> dict[str, Any]:
    """Convert the checkout ``data`` into ``out`` (sitegen.toml, data/, pyvideo-report.json); the report."""
    counts = Counts()
    categories = read_checkout(data, counts)
    collections = convert(categories, counts)
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "sitegen.toml").write_bytes(SITEGEN_TOML.encode())
    for name in gen.COLLECTIONS:
        (out / "data" / f"{name}.json").write_bytes(gen.dump(collections[name]))
    report = {
        "categories": len(categories),
        "videos_read": sum(len(c.videos) for c in categories),
        "written": {name: len(collections[name]) for name in gen.COLLECTIONS},
        "dropped": dict(sorted(counts.dropped.items())),
        "fixed": dict(sorted(counts.fixed.items())),
    }
    (out / "pyvideo-report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a checkout of github.com/pyvideo/data")
    parser.add_argument("--out", type=Path, required=True, help="output folder: gets sitegen.toml, data/ and pyvideo-report.json")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"{args.data} is not a folder")
    report = write_archive(args.data, args.out)
    print(json.dumps(report, indent=1, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
