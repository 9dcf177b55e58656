"""The fragment service: an ASGI app (starlette) that renders the personal holes.

    GET  {prefix}userbar                 "Signed in as …", with the CSRF token
    GET  {prefix}attendance?event=<id>   you, and the people you follow, speaking or attending
    POST {prefix}attend?event=<id>       say you are going    (CSRF token required)
    POST {prefix}unattend?event=<id>     say you are not      (CSRF token required)
    GET  {prefix}healthz

Every fragment is ``200 text/html`` with ``Cache-Control: private, no-store``
and ``Vary: Cookie``, and no response ever sets a cookie: login and logout
belong to the site's own app. A missing, expired, forged or revoked cookie
gets the anonymous variant. The query carries public ids only; identity comes
from the cookie alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from sitegen.bounded import loads_json, shown
from sitegen.config import Config
from sitegen.errors import FragmentError
from sitegen.fragments.identity import IdentityCodec, User
from sitegen.fragments.store import PersonalStore
from sitegen.render.holes import FRAGMENT_TEMPLATE, FRAGMENTS
from sitegen.render.templates import make_environment, render

PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Vary": "Cookie",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}
#: The loader sends this on its POSTs and gets the new fragment back instead of a redirect.
LOADER_HEADER = "x-sitegen-holes"
MAX_FORM_BYTES = 4096


@dataclass(frozen=True)
class Person:
    name: str
    url: str | None


@dataclass(frozen=True)
class SiteIndex:
    """Public facts of the built site (``build/.sitegen/fragments.json``)."""

    events: Mapping[str, Mapping[str, Any]]
    people: Mapping[str, Mapping[str, Any]]


def read_index(path: Path) -> SiteIndex:
    fix = "run `sitegen build` first, or pass --index the fragments.json of a build"
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise FragmentError.at(str(path), "does not exist", fix) from None
    except OSError as exc:
        raise FragmentError.at(str(path), f"cannot be read: {exc.strerror or exc}", fix) from None
    data = loads_json(text, str(path), FragmentError, fix)
    if not isinstance(data, dict) or data.get("format") != 1:
        raise FragmentError.at(str(path), "is not a fragment index this sitegen understands", fix)
    return SiteIndex(data["events"], data["people"])


@dataclass
class _IndexFile:
    """The index, re-read when a new build replaces it (checked at most once a second)."""

    path: Path
    clock: Callable[[], float]
    index: SiteIndex = field(init=False)
    _stamp: tuple[int, int] = field(init=False)
    _checked: float = field(init=False)

    def __post_init__(self) -> None:
        self._load()

    def _load(self) -> None:
        stat = self.path.stat() if self.path.exists() else None
        self.index = read_index(self.path)
        self._stamp = (stat.st_mtime_ns, stat.st_size) if stat else (0, 0)
        self._checked = self.clock()

    def current(self) -> SiteIndex:
        if self.clock() - self._checked >= 1.0:
            self._checked = self.clock()
            try:
                stat = self.path.stat()
                if (stat.st_mtime_ns, stat.st_size) != self._stamp:
                    self._load()
            except (OSError, FragmentError):
                pass  # a build is replacing it: keep serving the last good index
        return self.index


class FragmentService:
    """Renders fragments for one site; the ASGI app is ``self.app``."""

    def __init__(
        self,
        config: Config,
        *,
        index_path: Path,
        store: PersonalStore,
        codec: IdentityCodec,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = config.fragments
        self.store, self.codec = store, codec
        self.index = _IndexFile(index_path, clock)
        self.env = make_environment(
            config.theme_chain,
            {"site": config.site, "signin_url": self.settings.signin_url, "signout_url": self.settings.signout_url},
            self.settings.url_prefix,
        )
        self._check_templates()
        prefix = self.settings.url_prefix.rstrip("/")
        self.app = Starlette(
            routes=[
                Mount(
                    prefix,
                    routes=[
                        Route("/userbar", self.userbar, methods=["GET", "HEAD"]),
                        Route("/attendance", self.attendance, methods=["GET", "HEAD"]),
                        Route("/attend", self.attend, methods=["POST"]),
                        Route("/unattend", self.unattend, methods=["POST"]),
                        Route("/healthz", self.healthz, methods=["GET", "HEAD"]),
                    ],
                ),
            ],
        )

    def _check_templates(self) -> None:
        for name in sorted(FRAGMENTS):
            try:
                self.env.get_template(FRAGMENT_TEMPLATE.format(name=name))
            except jinja2.TemplateNotFound:
                raise FragmentError.at(
                    FRAGMENT_TEMPLATE.format(name=name), "is in no theme of the chain", "add it to your theme's templates/fragments/"
                ) from None
            except jinja2.TemplateSyntaxError as exc:
                raise FragmentError.at(
                    f"{exc.filename}:{exc.lineno}", f"template syntax error: {exc.message}", "fix the template"
                ) from None

    # --- identity ---

    def visitor(self, request: Request) -> User | None:
        user = self.codec.read(request.cookies.get(self.settings.cookie_name))
        if user is None or self.store.generation(user.id) != user.generation:
            return None  # signed out everywhere since this cookie was minted
        return user

    # --- endpoints ---

    async def userbar(self, request: Request) -> Response:
        user = self.visitor(request)
        return self._fragment("userbar", {"user": user, "csrf_token": self.codec.csrf_token(user) if user else ""})

    async def attendance(self, request: Request) -> Response:
        event_id = request.query_params.get("event", "")
        event = self.index.current().events.get(event_id)
        if event is None:
            return _plain(404, f"no event {shown(event_id)} in this build")
        return self._fragment("attendance", self._attendance_context(self.visitor(request), event_id, event))

    async def attend(self, request: Request) -> Response:
        return await self._set_attending(request, True)

    async def unattend(self, request: Request) -> Response:
        return await self._set_attending(request, False)

    async def healthz(self, request: Request) -> Response:
        return _plain(200, "ok")

    # --- helpers ---

    async def _set_attending(self, request: Request, attending: bool) -> Response:
        if cross_site(request):
            return _plain(403, "cross-site request refused")
        user = self.visitor(request)
        if user is None:
            return _plain(403, "sign in first")
        event_id = request.query_params.get("event", "")
        event = self.index.current().events.get(event_id)
        if event is None:
            return _plain(404, f"no event {shown(event_id)} in this build")
        token = request.headers.get("x-csrf-token") or await _form_field(request, "csrf_token")
        if not self.codec.csrf_ok(token, user):
            return _plain(403, "missing or stale CSRF token; reload the page and try again")
        self.store.set_attending(user.id, event_id, attending)
        if request.headers.get(LOADER_HEADER):
            return self._fragment("attendance", self._attendance_context(user, event_id, event))
        # A form posted without JavaScript: back to the event page.
        return Response(status_code=303, headers={**PRIVATE_HEADERS, "Location": event["url"]})

    def _attendance_context(self, user: User | None, event_id: str, event: Mapping[str, Any]) -> dict[str, Any]:
        facts = self.store.attendance(user.id if user else None, event_id)
        speaking = facts.following & set(event["speakers"])
        people = self._people(speaking | facts.followed_attending)
        return {
            "user": user,
            "csrf_token": self.codec.csrf_token(user) if user else "",
            "event": event,
            "event_id": event_id,
            "action_url": f"{self.settings.url_prefix}{'unattend' if facts.attending else 'attend'}?event={quote(event_id, safe='')}",
            "attending": facts.attending,
            "attendee_count": facts.count,
            "followed_speaking": [people[p] for p in sorted(speaking, key=lambda p: (people[p].name.casefold(), p))],
            "followed_attending": [people[p] for p in sorted(facts.followed_attending, key=lambda p: (people[p].name.casefold(), p))],
        }

    def _people(self, ids: Collection[str]) -> dict[str, Person]:
        archive = self.index.current().people
        stored = self.store.names(i for i in ids if i not in archive)
        return {i: Person(archive[i]["name"], archive[i]["url"]) if i in archive else Person(stored.get(i, i), None) for i in ids}

    def _fragment(self, name: str, context: Mapping[str, Any]) -> Response:
        html = render(self.env, FRAGMENT_TEMPLATE.format(name=name), context)
        return Response(html, media_type="text/html", headers=PRIVATE_HEADERS)


def _plain(status: int, text: str) -> Response:
    return PlainTextResponse(text + "\n", status_code=status, headers=PRIVATE_HEADERS)


def cross_site(request: Request) -> bool:
    """Refuse writes from anywhere but this origin. SameSite=Lax already keeps
    the cookie off cross-site POSTs; this is the second lock, and it is
    stricter: a sibling subdomain (``Sec-Fetch-Site: same-site``) is refused
    too, since the loader's requests are always same-origin and another host
    of the same registrable domain is not the site. Browsers send
    Sec-Fetch-Site; for older ones, the Origin must name the host the request
    was sent to."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc != request.headers.get("host", "")


async def _form_field(request: Request, name: str) -> str | None:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    values = parse_qs(body.decode("utf-8", "replace")).get(name)
    return values[0] if values else None
