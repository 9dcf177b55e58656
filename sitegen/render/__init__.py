"""The render stage: archive, content and assets in, the site's files (as bytes) out.

``views`` decides what each page shows, ``templates`` renders it with the
theme, ``formats`` writes the feed, sitemap, robots.txt and calendars, and
``routes`` owns the URL scheme. Nothing here touches the output folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup

from sitegen.assets import AssetBundle
from sitegen.config import Config
from sitegen.content import ContentResult
from sitegen.errors import ContentError, Problem, SitegenError
from sitegen.model import Archive, Session
from sitegen.render import formats
from sitegen.render.routes import Routes, ics_route, output_path, route_of
from sitegen.render.templates import make_environment, render
from sitegen.render.views import PageSpec, plan_pages


@dataclass(frozen=True)
class PageMeta:
    """What base.html needs for <head>: title, description, canonical link."""

    title: str
    description: str
    url: str
    canonical: str | None


@dataclass(frozen=True)
class RenderResult:
    #: Output path (``2024/pycon/index.html``) -> bytes, sorted by path.
    files: Mapping[str, bytes]
    pages: int


def render_site(
    config: Config,
    archive: Archive,
    content: ContentResult,
    assets: AssetBundle,
    today: date,
    start_progress: Callable[[int], Callable[[int], None]] = lambda total: lambda advance: None,
) -> RenderResult:
    """Render every page and machine file.

    ``start_progress`` is given the number of pages once they are planned, and
    returns the function to call as each page is done.
    """
    routes = Routes(config.site.base_url)
    env = make_environment(
        config.theme_chain, _template_globals(config, routes, content, assets, today), config.fragments.url_prefix
    )
    files = _Files()
    sitemap: list[tuple[str, date | None]] = []
    specs = list(plan_pages(archive, content, today, config.site.description))
    progress = start_progress(len(specs))
    for spec in specs:
        origin = spec.origin or f"the {spec.template} page"
        files.add(output_path(spec.route), _render_page(env, config, routes, spec), origin)
        sitemap.append((spec.route, spec.updated))
        progress(1)
    not_found = PageSpec(route_of("404"), "404.html", "Page not found", "This page does not exist.")
    files.add(route_of("404"), _render_page(env, config, routes, not_found, canonical=False), "404.html")
    for event in archive.events.values():
        calendar = formats.event_calendar(routes, event, archive.sessions_by_event.get(event.id, ()), content.texts)
        files.add(ics_route(event), calendar, f"calendar of {event.id}")
    files.add(route_of("feed"), formats.atom_feed(config.site, routes, recent_sessions(archive, today), content.texts), "feed")
    for route, data in formats.sitemaps(routes, sitemap).items():
        files.add(route, data, "sitemap")
    files.add(route_of("robots"), formats.robots_txt(routes), "robots.txt")
    return RenderResult(files.sorted(), pages=len(sitemap) + 1)


def recent_sessions(archive: Archive, today: date) -> list[Session]:
    """The newest sessions that have taken place, for the feed."""
    past = [s for s in archive.sessions.values() if s.day <= today]
    past.sort(key=lambda s: (s.day, s.start.timestamp() if s.start else 0.0, s.id), reverse=True)
    return past[: formats.FEED_ENTRIES]


def _render_page(env: Any, config: Config, routes: Routes, spec: PageSpec, canonical: bool = True) -> bytes:
    title = f"{spec.title} — {config.site.title}" if spec.title else config.site.title
    meta = PageMeta(title, spec.description, routes.path(spec.route), routes.absolute(spec.route) if canonical else None)
    try:
        return render(env, spec.template, {**spec.context, "meta": meta}).encode("utf-8")
    except SitegenError as exc:
        if not spec.origin:
            raise
        # A Markdown page chose its template: the page is what to fix first.
        raise type(exc)(f"{spec.origin}: its template {spec.template!r} failed:", exc.problems) from exc


def _template_globals(config: Config, routes: Routes, content: ContentResult, assets: AssetBundle, today: date) -> dict[str, Any]:
    def static(logical: str) -> str:
        return config.site.static_url + assets.hashed_name(logical)

    def text(obj: Any, field: str) -> Markup:
        rendered = content.texts.of(obj, field)
        return Markup(rendered.html) if rendered else Markup("")

    menu = sorted((p for p in content.pages if p.menu), key=lambda p: (p.weight, p.title.casefold(), p.path))
    return {
        "site": config.site,
        "menu": [(p.title, routes.url(p)) for p in menu],
        "url": routes.url,
        "ics_url": lambda event: routes.path(ics_route(event)),
        "static": static,
        "text": text,
        "signin_url": config.fragments.signin_url,
        "today": today,
    }


class _Files:
    """Output files by path; two things claiming one path is an error naming both."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._origin: dict[str, str] = {}

    def add(self, path: str, data: bytes, origin: str) -> None:
        if path in self._data:
            raise ContentError(
                f"Two pages want the same file {path}:",
                [Problem(path, f"made by both {self._origin[path]} and {origin}", "rename one of them (a Markdown page's file name sets its URL)")],
            )
        self._data[path] = data
        self._origin[path] = origin

    def sorted(self) -> dict[str, bytes]:
        return dict(sorted(self._data.items()))
