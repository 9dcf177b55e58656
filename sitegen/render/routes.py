"""The URL scheme (Lanyrd's), in one place.

A route is a path below the site root, without a leading slash: ``"2024/pycon/"``
for a page (written as ``2024/pycon/index.html``) or ``"feed.atom"`` for a file.
``Routes.url`` prefixes the base path so the site also works below a sub-folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from sitegen.content import Page
from sitegen.model import Event, Person, Series, Session, Topic, Venue

#: Named routes for the index pages and files that are not tied to an object.
NAMED_ROUTES = {
    "home": "",
    "topics": "topics/",
    "series": "series/",
    "places": "places/",
    "search": "search/",
    "feed": "feed.atom",
    "sitemap": "sitemap.xml",
    "robots": "robots.txt",
    "404": "404.html",
}


def route_of(target: Any) -> str:
    """The route of a model object, a Markdown page, a year, or a named route."""
    match target:
        case Session():
            return f"{route_of(target.event)}{target.slug}/"
        case Event():
            return f"{target.year}/{target.slug}/"
        case Person():
            return f"people/{target.slug}/"
        case Topic():
            return f"topics/{target.slug}/"
        case Series():
            return f"series/{target.slug}/"
        case Venue():
            return city_route(target.country, target.city_slug)
        case Page():
            return f"{target.path}/" if target.path else ""
        case int():
            return f"{target}/"
        case str() if target in NAMED_ROUTES:
            return NAMED_ROUTES[target]
        case _ if isinstance(getattr(target, "route", None), str):
            return str(target.route)  # view objects that know their route (places)
    raise LookupError(f"no route for {target!r}; known names: {', '.join(sorted(NAMED_ROUTES))}")


def country_route(code: str) -> str:
    return f"places/{code.lower()}/"


def city_route(code: str, slug: str) -> str:
    return f"{country_route(code)}{slug}/"


def page_route(route: str, number: int) -> str:
    """The route of page ``number`` of a paginated list: page 1 stays at the
    list's own route, the others are ``<route>page/<n>/``."""
    return route if number == 1 else f"{route}page/{number}/"


def ics_route(event: Event) -> str:
    return f"{route_of(event)}event.ics"


def calendar_route(owner: Person | Topic | Series) -> str:
    """The calendar of a person, topic or series, beside its page (slugs hold no dots)."""
    return f"{route_of(owner)}calendar.ics"


def feed_route(owner: Person | Topic | Series) -> str:
    return f"{route_of(owner)}feed.atom"


def output_path(route: str) -> str:
    """The file a route is written to: folders get an index.html."""
    return f"{route}index.html" if route == "" or route.endswith("/") else route


@dataclass(frozen=True)
class Routes:
    base_url: str  # absolute, ends with "/"

    @cached_property
    def base_path(self) -> str:
        return urlsplit(self.base_url).path or "/"

    def url(self, target: Any) -> str:
        """Site-absolute URL (``/2024/pycon/``) of an object or named route, for links."""
        return self.path(route_of(target))

    def path(self, route: str) -> str:
        """Site-absolute URL of a route."""
        return self.base_path + route

    def absolute(self, route: str) -> str:
        """Full URL (``https://host/2024/pycon/``) for canonical links, feeds and the sitemap.

        A route is a relative path with no leading slash, dots or scheme, so
        joining is appending (urljoin costs more than a page's other links)."""
        return self.base_url + route

    def webcal(self, route: str) -> str:
        """The ``webcal://`` URL of a calendar: calendar apps subscribe to it."""
        return "webcal:" + self.absolute(route).partition(":")[2]
