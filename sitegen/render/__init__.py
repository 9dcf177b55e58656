"""The render stage: archive, content and assets in, the site's files (as bytes) out.

``views`` decides what each page shows, ``templates`` renders it with the
theme, ``formats`` writes the feed, sitemap, robots.txt and calendars, and
``routes`` owns the URL scheme. ``record`` keeps what each file was made from
and works out what a rebuild must render again (``digest`` fingerprints the
listings' inputs), and ``parallel`` spreads the rendering over every core. Rendered files go to an injected sink; nothing here touches
the output folder.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from markupsafe import Markup

from sitegen.assets import AssetBundle
from sitegen.config import Config
from sitegen.content import ContentResult
from sitegen.errors import ContentError, Problem, SitegenError
from sitegen.model import Archive, Event, Session, object_key
from sitegen.render import formats, subscribe
from sitegen.render.compiled import bytecode_cache
from sitegen.render.digest import Fingerprints, TemplateDigests, code_version, digest_hex, fragment_templates
from sitegen.render.parallel import fork_map, split
from sitegen.render.record import Changes, FileEntry, Record, context_objects
from sitegen.render.related import RelatedTalks
from sitegen.render.routes import Routes, calendar_route, feed_route, ics_route, output_path, page_route, route_of
from sitegen.render.structured import template_globals as structured_globals
from sitegen.render.templates import make_environment, render
from sitegen.render.views import Lists, PageSpec, Summary, archive_objects, listing_pages, object_page, object_pages_count


@dataclass(frozen=True)
class PageMeta:
    """What base.html needs for <head>: title, description, canonical link."""

    title: str
    description: str
    url: str
    canonical: str | None


#: Where rendered files go: ``sink(path, data)`` stores them and says whether
#: the bytes differ from the last build's. It is called in worker processes.
Sink = Callable[[str, bytes], bool]


@dataclass(frozen=True)
class RenderResult:
    #: This build's record: every file the render stage makes, and what it was made from.
    record: Record
    #: Files whose bytes changed, as the sink reported.
    changed: tuple[str, ...]
    #: Pages of the site, and files rendered by this build.
    pages: int
    rendered: int


@dataclass(frozen=True)
class _Job:
    path: str
    #: Renders the file: its entry for the record, and its bytes (None when
    #: a listing's inputs are those of the last build, so it was not rendered).
    run: Callable[[], tuple[FileEntry, bytes | None]]


def render_site(
    config: Config,
    archive: Archive,
    content: ContentResult,
    assets: AssetBundle,
    today: date,
    *,
    sources: Mapping[str, str],
    sink: Sink,
    previous: Any = None,
    workers: int = 1,
    start_progress: Callable[[int], Callable[[int], None]] = lambda total: lambda advance: None,
    cache_key: bytes | None = None,
) -> RenderResult:
    """Render the files whose inputs changed since the last build, on ``workers`` cores.

    ``sources``: a digest of each model object's raw data (``ModelResult``); ``previous``:
    the last build's record as plain data (``Record.to_data``) or as the record itself (a
    long-lived process's own), or None to render everything; ``start_progress`` is given the
    number of files to render and returns the function to call as they are done;
    ``cache_key`` seals the compiled templates kept in the cache folder (None keeps none)."""
    routes = Routes(config.site.base_url)
    env = make_environment(
        config.theme_chain,
        _template_globals(config, routes, content, assets, today),
        config.fragments.url_prefix,
        bytecode_cache(config.cache_dir, cache_key),
    )
    last = previous if isinstance(previous, Record) else Record.from_data(previous) if previous else None
    plan = _Planner(config, archive, content, assets, today, routes, env, last)
    outcomes = _run_jobs(plan.jobs(sources), sink, workers, start_progress)
    files = {**plan.kept, **{path: entry for path, entry, _ in outcomes}}
    changed = [path for path, _, was_changed in outcomes if was_changed]
    sitemap = sorted(entry.sitemap for entry in files.values() if entry.sitemap)
    machine, machine_changed = plan.machine_files(sitemap, sink)
    files.update(machine)
    changed += machine_changed
    templates = plan.template_record(files)
    record = Record(
        plan.inputs,
        today.isoformat(),
        templates,
        dict(sources),
        dict(sorted(files.items())),
        plan.templates.analyses_of(templates),
        archive.session_order,
    )
    rendered = sum(1 for _, _, was_changed in outcomes if was_changed is not None)
    return RenderResult(record, tuple(sorted(changed)), pages=len(sitemap) + 1, rendered=rendered)


def _run_jobs(
    jobs: list[_Job], sink: Sink, workers: int, start_progress: Callable[[int], Callable[[int], None]]
) -> list[tuple[str, FileEntry, bool | None]]:
    """Run the jobs, in shares over up to ``workers`` forked processes; each file's
    (path, entry, changed), where changed is None for a file not rendered."""
    shares = split(jobs, max(1, min(workers, len(jobs) // MIN_SHARE)))
    progress = start_progress(len(jobs))

    def render_share(share: list[_Job]) -> list[tuple[str, FileEntry, bool | None]]:
        done = []
        for job in share:
            entry, data = job.run()
            done.append((job.path, entry, None if data is None else sink(job.path, data)))
            progress(len(shares))  # only the parent's share reports; it stands for all of them
        return done

    return [outcome for part in fork_map(render_share, shares) for outcome in part]


#: Fewer files than this per worker are not worth a process.
MIN_SHARE = 64


class _Planner:
    """Decides which files to render: every listing (rendered if its digest
    changed), and the files of the objects whose inputs changed; on a first
    build or new site-wide inputs, everything."""

    def __init__(
        self,
        config: Config,
        archive: Archive,
        content: ContentResult,
        assets: AssetBundle,
        today: date,
        routes: Routes,
        env: Any,
        previous: Record | None,
    ) -> None:
        self.config, self.archive, self.content, self.today, self.routes, self.env = config, archive, content, today, routes, env
        self.lists = Lists(config.build.page_size, RelatedTalks(archive))
        self.fingerprints = Fingerprints()
        self.syndication = formats.Syndication(config.site, routes, content.texts)
        self.site_inputs = self.fingerprints.of(
            code_version(),
            archive.zones,  # (the zones' rules: local days and times)
            config.site,
            config.build.page_size,
            config.fragments.url_prefix,
            config.fragments.signin_url,
            [(p.title, routes.url(p)) for p in content.pages if p.menu],
            assets.manifest_json().decode(),
            fragment_templates(config.theme_chain),
        )
        self.inputs = self.site_inputs.hex()
        self.previous = previous if previous and previous.inputs == self.inputs else None
        self.templates = TemplateDigests(env, self.previous.analyses if self.previous else None)
        #: Files of the last build that stay as they are, with their entries.
        self.kept: dict[str, FileEntry] = {}

    def jobs(self, sources: Mapping[str, str]) -> list[_Job]:
        archive, previous = self.archive, self.previous
        if previous is None:
            objects: list[Any] = list(archive_objects(archive))
        else:
            changes = Changes.between(previous, archive, sources, self.template_record(previous.files), self.today.isoformat())
            again = {entry.owner for entry in previous.files.values() if entry.owner and changes.touch(entry)}
            again.update(key for key in sources if key not in previous.sources)
            self.kept = {path: e for path, e in previous.files.items() if e.owner and e.owner not in again}
            objects = [obj for obj in archive_objects(archive) if object_key(obj) in again]
        owners = _Owners({path: f"the page of {entry.owner}" for path, entry in self.kept.items()})
        jobs = [self._listing_job(spec, owners, canonical) for spec, canonical in self._listings()]
        if any(type(obj) is Session for obj in objects):
            self.lists.related.prepare()  # once, before the workers fork
        for obj in objects:
            route = route_of(obj)
            for number in range(1, object_pages_count(archive, obj, self.lists.page_size) + 1):
                path = output_path(page_route(route, number))
                owners.claim(path, f"the page of {object_key(obj)}")
                jobs.append(_Job(path, partial(self._render_object, obj, number)))
            if type(obj) is Event:
                path = ics_route(obj)
                owners.claim(path, f"the calendar of {object_key(obj)}")
                jobs.append(_Job(path, partial(self._render_calendar, obj)))
            elif isinstance(obj, subscribe.SUBSCRIBABLE):
                for path, what in subscribe.files_of(obj):
                    owners.claim(path, f"the {what} of {object_key(obj)}")
                    make = subscribe.calendar_file if what == "calendar" else subscribe.feed_file
                    jobs.append(_Job(path, partial(make, self.archive, self.syndication, obj)))
        return jobs

    def template_digest(self, name: str) -> str:
        """The digest of a template and all it pulls in; "" when it cannot be
        analysed, which counts as changed on every build."""
        found = self.templates.of(name)
        return found[0].hex() if found else ""

    def template_record(self, files: Mapping[str, FileEntry]) -> dict[str, str]:
        """The digest of each template the files were made with. Worked out here,
        in the parent: workers' analyses do not come back."""
        return {name: self.template_digest(name) for name in sorted({e.template for e in files.values() if e.template})}

    def machine_files(self, sitemap: list[tuple[str, str]], sink: Sink) -> tuple[dict[str, FileEntry], list[str]]:
        """The feed, the sitemap (in parts past the protocol's limit) and robots.txt,
        made again only when their inputs changed. Their entries carry the digest
        of those inputs, tagged with what they are."""
        routes = self.routes
        recent = recent_sessions(self.archive, self.today)
        groups: dict[str, tuple[bytes, Callable[[], dict[str, bytes]]]] = {
            "feed": (
                self.fingerprints.of(recent),
                lambda: {route_of("feed"): self.syndication.feed(recent)},
            ),
            "sitemap": (
                self.fingerprints.of(sitemap),
                lambda: formats.sitemaps(routes, [(route, date.fromisoformat(day) if day else None) for route, day in sitemap]),
            ),
            "robots": (b"", lambda: {route_of("robots"): formats.robots_txt(routes)}),
        }
        previous = self.previous.files if self.previous else {}
        entries: dict[str, FileEntry] = {}
        changed: list[str] = []
        for group, (digest, make) in groups.items():
            tag = f"{group}:{digest.hex()}"
            kept = {path: entry for path, entry in previous.items() if not entry.owner and not entry.template and entry.digest == tag}
            if kept:  # the site-wide inputs are those of the last build too, or there would be no previous record
                entries.update(kept)
                continue
            for path, data in make().items():
                entries[path] = FileEntry(digest=tag)
                if sink(path, data):
                    changed.append(path)
        return entries, changed

    def _listings(self) -> list[tuple[PageSpec, bool]]:
        found = listing_pages(self.archive, self.content, self.today, self.config.site.description, self.lists.page_size)
        specs = [(spec, True) for spec in found]
        # Search results are not pages to index: the search page is noindex and not in the sitemap, like 404.
        search = PageSpec(route_of("search"), "search.html", "Search", "Search every talk, speaker and event of the archive.")
        return [*specs, (search, False), (PageSpec(route_of("404"), "404.html", "Page not found", "This page does not exist."), False)]

    def _listing_job(self, spec: PageSpec, owners: _Owners, canonical: bool) -> _Job:
        path = output_path(spec.route)
        owners.claim(path, spec.origin or f"the {spec.template} page")
        known = self.previous.files.get(path) if self.previous else None

        def run() -> tuple[FileEntry, bytes | None]:
            digest = self._listing_digest(spec, canonical)
            entry = FileEntry(template=spec.template, digest=digest, sitemap=_sitemap_entry(spec) if canonical else None)
            if digest and known is not None and known.digest == digest:
                return entry, None
            return entry, _render_page(self.env, self.config, self.routes, self.content, spec, canonical)

        return _Job(path, run)

    def _listing_digest(self, spec: PageSpec, canonical: bool) -> str:
        template = self.templates.of(spec.template)
        if template is None:
            return ""
        template_digest, reads_today = template
        spec_digest = self.fingerprints.of(spec.route, spec.template, spec.title, spec.description, spec.context, canonical)
        return digest_hex(self.site_inputs, template_digest, spec_digest, self.today.isoformat().encode() if reads_today else b"")

    def _render_object(self, obj: Any, number: int) -> tuple[FileEntry, bytes]:
        spec = object_page(self.archive, obj, self.today, self.lists, number)
        template = self.templates.of(spec.template)
        entry = FileEntry(
            owner=object_key(obj),
            template=spec.template,
            deps=context_objects(spec.context),
            lists=tuple(sorted(object_key(o) for o in spec.lists)),
            reads_today=spec.reads_today or template is None or template[1],
            sitemap=_sitemap_entry(spec),
        )
        return entry, _render_page(self.env, self.config, self.routes, self.content, spec)

    def _render_calendar(self, event: Event) -> tuple[FileEntry, bytes]:
        sessions = self.archive.sessions_by_event.get(event.id, ())
        entry = FileEntry(owner=object_key(event), deps=tuple(sorted({object_key(event), *map(object_key, sessions)})))
        return entry, self.syndication.event_calendar(event, sessions)


def _sitemap_entry(spec: PageSpec) -> tuple[str, str]:
    return spec.route, spec.updated.isoformat() if spec.updated else ""


def recent_sessions(archive: Archive, today: date) -> list[Session]:
    """The newest sessions that have taken place, for the feed."""
    past = (s for s in archive.sessions.values() if s.day <= today)
    return heapq.nlargest(formats.FEED_ENTRIES, past, key=lambda s: (s.day, s.start.timestamp() if s.start else 0.0, s.id))


def _render_page(env: Any, config: Config, routes: Routes, content: ContentResult, spec: PageSpec, canonical: bool = True) -> bytes:
    title = f"{spec.title} — {config.site.title}" if spec.title else config.site.title
    description = spec.description.resolve(content.texts) if isinstance(spec.description, Summary) else spec.description
    meta = PageMeta(title, description, routes.path(spec.route), routes.absolute(spec.route) if canonical else None)
    try:
        return render(env, spec.template, {**spec.context, "meta": meta}).encode("utf-8")
    except SitegenError as exc:
        if not spec.origin:
            raise
        # A Markdown page chose its template: the page is what to fix first.
        raise type(exc)(f"{spec.origin}: its template {spec.template!r} failed:", exc.problems) from exc


def _template_globals(config: Config, routes: Routes, content: ContentResult, assets: AssetBundle, today: date) -> dict[str, Any]:
    # Every page asks for the same few assets and links to the same people,
    # events and topics over and over: answer each question once per build.
    static_urls: dict[str, str] = {}
    #: By id for objects (hashing a frozen dataclass hashes all its fields); the
    #: object is kept beside its URL, so its id cannot be reused meanwhile.
    urls: dict[Any, tuple[Any, str]] = {}

    def static(logical: str) -> str:
        if logical not in static_urls:
            static_urls[logical] = config.site.static_url + assets.hashed_name(logical)
        return static_urls[logical]

    def url(target: Any) -> str:
        key = target if type(target) in (str, int) else id(target)
        found = urls.get(key)
        if found is None:
            found = urls[key] = (target, routes.url(target))
        return found[1]

    def text(obj: Any, field: str) -> Markup:
        rendered = content.texts.of(obj, field)
        return Markup(rendered.html) if rendered else Markup("")

    menu = sorted((p for p in content.pages if p.menu), key=lambda p: (p.weight, p.title.casefold(), p.path))
    return {
        "site": config.site,
        "menu": [(p.title, routes.url(p)) for p in menu],
        "url": url,
        "ics_url": lambda event: routes.path(ics_route(event)),
        "webcal_url": lambda owner: routes.webcal(calendar_route(owner)),
        "feed_url": lambda owner: routes.path(feed_route(owner)),
        "static": static,
        "text": text,
        "signin_url": config.fragments.signin_url,
        "today": today,
        **structured_globals(routes),
    }


class _Owners:
    """Which page or file claimed each output path; a second claim is an error
    naming both. ``kept`` are the files a rebuild keeps, by path."""

    def __init__(self, kept: Mapping[str, str]) -> None:
        self._origin: dict[str, str] = dict(kept)

    def claim(self, path: str, origin: str) -> None:
        if path in self._origin:
            raise ContentError(
                f"Two pages want the same file {path}:",
                [
                    Problem(
                        path,
                        f"made by both {self._origin[path]} and {origin}",
                        "rename one of them (a Markdown page's file name sets its URL)",
                    )
                ],
            )
        self._origin[path] = origin
