"""The render stage: archive, content and assets in, the site's files (as bytes) out.

``views`` decides what each page shows, ``templates`` renders it with the
theme, ``formats`` writes the feed, sitemap, robots.txt and calendars, and
``routes`` owns the URL scheme. ``digest`` fingerprints each file's inputs so
a rebuild renders only what changed, and ``parallel`` spreads the rendering
over every core. Rendered files go to an injected sink; nothing here touches
the output folder.
"""

from __future__ import annotations

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
from sitegen.model import Archive, Event, Session
from sitegen.render import formats
from sitegen.render.digest import Fingerprints, TemplateDigests, code_version, digest_hex, fragment_templates
from sitegen.render.parallel import fork_map, split
from sitegen.render.routes import Routes, ics_route, output_path, route_of
from sitegen.render.templates import make_environment, render
from sitegen.render.views import PageSpec, Summary, plan_pages


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
    #: Every file the render stage makes -> the digest of its inputs ("" when
    #: it is made on every build). Sorted by path.
    digests: Mapping[str, str]
    #: Files whose bytes changed, as the sink reported.
    changed: tuple[str, ...]
    #: Pages of the site, and files rendered by this build.
    pages: int
    rendered: int


@dataclass(frozen=True)
class _Job:
    path: str
    #: The digest of the file's inputs; "" means render it on every build
    #: (its template could not be analysed). Computed in the worker, in parallel.
    digest: Callable[[], str]
    make: Callable[[], bytes]


def render_site(
    config: Config,
    archive: Archive,
    content: ContentResult,
    assets: AssetBundle,
    today: date,
    *,
    sink: Sink,
    previous: Mapping[str, str] | None = None,
    exists: Callable[[str], bool] = lambda path: False,
    workers: int = 1,
    start_progress: Callable[[int], Callable[[int], None]] = lambda total: lambda advance: None,
) -> RenderResult:
    """Render the files whose inputs changed since the last build, on ``workers`` cores.

    ``previous`` maps each file of the last build to its digest, and
    ``exists`` says whether it is still there; a file whose digest is the same
    and that still exists is not rendered again. ``start_progress`` is given
    the number of files to render, and returns the function to call as they
    are done.
    """
    routes = Routes(config.site.base_url)
    env = make_environment(
        config.theme_chain, _template_globals(config, routes, content, assets, today), config.fragments.url_prefix
    )
    jobs, sitemap = _plan(config, archive, content, assets, today, routes, env)
    previous = previous or {}
    shares = split(jobs, max(1, min(workers, len(jobs) // MIN_SHARE)))
    progress = start_progress(len(jobs))

    def render_share(share: list[_Job]) -> list[tuple[str, str, bool | None]]:
        """(path, digest, changed), where changed is None for a file not rendered."""
        done = []
        for job in share:
            digest = job.digest()
            if digest and previous.get(job.path) == digest and exists(job.path):
                done.append((job.path, digest, None))
            else:
                done.append((job.path, digest, sink(job.path, job.make())))
            progress(len(shares))  # only the parent's share reports; it stands for all of them
        return done

    outcomes = [outcome for part in fork_map(render_share, shares) for outcome in part]
    changed = [path for path, _, was_changed in outcomes if was_changed]
    rendered = sum(1 for _, _, was_changed in outcomes if was_changed is not None)
    machine = {
        route_of("feed"): formats.atom_feed(config.site, routes, recent_sessions(archive, today), content.texts),
        **formats.sitemaps(routes, sitemap),
        route_of("robots"): formats.robots_txt(routes),
    }
    changed += [path for path, data in machine.items() if sink(path, data)]
    digests = {path: digest for path, digest, _ in outcomes} | {path: "" for path in machine}
    return RenderResult(dict(sorted(digests.items())), tuple(sorted(changed)), pages=len(sitemap) + 1, rendered=rendered)


#: Fewer files than this per worker are not worth a process.
MIN_SHARE = 64


def _plan(config: Config, archive: Archive, content: ContentResult, assets: AssetBundle, today: date,
          routes: Routes, env: Any) -> tuple[list[_Job], list[tuple[str, date | None]]]:
    """Every page and calendar, with the digest of its inputs; and the sitemap's entries."""
    fingerprints = Fingerprints()
    templates = TemplateDigests(env)
    site_inputs = fingerprints.of(
        code_version(), config.site, config.fragments.url_prefix, config.fragments.signin_url,
        [(p.title, routes.url(p)) for p in content.pages if p.menu], assets.manifest_json().decode(),
        fragment_templates(config.theme_chain),
    )
    # Fingerprint every model object here, once: forked workers inherit the
    # memo instead of each working it out again for the objects its pages reach.
    fingerprints.warm(archive)
    owners = _Owners()
    jobs: list[_Job] = []
    sitemap: list[tuple[str, date | None]] = []

    def page(spec: PageSpec, canonical: bool = True) -> None:
        path = output_path(spec.route)
        owners.claim(path, spec.origin or f"the {spec.template} page")

        def digest() -> str:
            template = templates.of(spec.template)
            if template is None:
                return ""
            template_digest, reads_today = template
            spec_digest = fingerprints.of(spec.route, spec.template, spec.title, spec.description, spec.context, canonical)
            return digest_hex(site_inputs, template_digest, spec_digest, today.isoformat().encode() if reads_today else b"")

        jobs.append(_Job(path, digest, lambda: _render_page(env, config, routes, content, spec, canonical)))

    for spec in plan_pages(archive, content, today, config.site.description):
        page(spec)
        sitemap.append((spec.route, spec.updated))
    page(PageSpec(route_of("404"), "404.html", "Page not found", "This page does not exist."), canonical=False)
    def calendar_digest(event: Event, sessions: tuple[Session, ...]) -> str:
        return digest_hex(site_inputs, fingerprints.of("calendar", event, sessions))

    for event in archive.events.values():
        sessions = archive.sessions_by_event.get(event.id, ())
        path = ics_route(event)
        owners.claim(path, f"calendar of {event.id}")
        jobs.append(_Job(path, partial(calendar_digest, event, sessions), partial(formats.event_calendar, routes, event, sessions, content.texts)))
    return jobs, sitemap


def recent_sessions(archive: Archive, today: date) -> list[Session]:
    """The newest sessions that have taken place, for the feed."""
    past = [s for s in archive.sessions.values() if s.day <= today]
    past.sort(key=lambda s: (s.day, s.start.timestamp() if s.start else 0.0, s.id), reverse=True)
    return past[: formats.FEED_ENTRIES]


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
        "static": static,
        "text": text,
        "signin_url": config.fragments.signin_url,
        "today": today,
    }


class _Owners:
    """Which page or file claimed each output path; a second claim is an error naming both."""

    def __init__(self) -> None:
        self._origin: dict[str, str] = {}

    def claim(self, path: str, origin: str) -> None:
        if path in self._origin:
            raise ContentError(
                f"Two pages want the same file {path}:",
                [Problem(path, f"made by both {self._origin[path]} and {origin}", "rename one of them (a Markdown page's file name sets its URL)")],
            )
        self._origin[path] = origin
