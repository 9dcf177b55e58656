"""The dev server's HTTP side: the built site with publish's headers, the
live-reload channel, the fragment service, and a dev-only sign-in.

    /__sitegen/events     server-sent events: reload, css, build-error, search-index
    /__sitegen/client.js  the reload client, injected into every page
    /__sitegen/signin     sign in as any user (also at [fragments] signin_url)
    /__sitegen/signout    (also at [fragments] signout_url)
    {url_prefix}...       the fragment service, as at the edge
    anything else         build/, as S3 would serve it: /a/ is a/index.html
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sitegen.config import Config
from sitegen.errors import SitegenError
from sitegen.fragments.identity import IdentityCodec, User, cookie_header
from sitegen.fragments.service import cross_site, read_index
from sitegen.fragments.store import PersonalStore
from sitegen.publish.headers import HeaderPolicy
from sitegen.publish.plan import encode_body, header_policy
from sitegen.serve import CLOSE, BuildError, Channel
from sitegen.serve.guard import MAX_URL_PATH, Found, HostCheck, Redirect, TooLong, locate
from sitegen.write import FRAGMENT_INDEX

DEV_PREFIX = "/__sitegen/"
CLIENT_JS = (Path(__file__).parent / "client.js").read_bytes()
CLIENT_TAG = f'<script src="{DEV_PREFIX}client.js" defer></script>'
MAX_FORM_BYTES = 4096
#: A comment now and then keeps proxies and the browser from closing a quiet stream.
KEEPALIVE_SECONDS = 15.0
#: Open reload streams at most (each tab holds one); more are 503.
MAX_LISTENERS = 64


@dataclass
class DevState:
    """What the server shows: the last good build, and the last build's error if it failed."""

    output_dir: Path
    config: Config
    error: BuildError | None = None
    #: Bumped by every build; the header policy is re-read when it changes.
    generation: int = 0
    _policy: tuple[int, HeaderPolicy] | None = field(default=None, repr=False)

    def policy(self) -> HeaderPolicy:
        if self._policy is None or self._policy[0] != self.generation:
            self._policy = (self.generation, header_policy(self.output_dir, self.config.publish))
        return self._policy[1]


class DevApp:
    """The ASGI app of ``sitegen serve``."""

    def __init__(
        self, state: DevState, channel: Channel, *, fragments: ASGIApp | None, codec: IdentityCodec, store: PersonalStore, hosts: HostCheck
    ) -> None:
        self.state, self.channel, self.fragments, self.hosts = state, channel, fragments, hosts
        self.codec, self.store = codec, store
        settings = state.config.fragments
        self.fragment_prefix = settings.url_prefix
        self.signin_paths = _dev_paths("signin", settings.signin_url)
        self.signout_paths = _dev_paths("signout", settings.signout_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if self.fragments is not None and path.startswith(self.fragment_prefix):
            await self.fragments(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self.dispatch(request, path)
        await response(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        """Only requests for the served address are answered (no DNS rebinding), and only short paths."""
        hosts = [value.decode("latin-1") for name, value in scope["headers"] if name == b"host"]
        if len(hosts) != 1 or not self.hosts.allows(hosts[0]):
            return PlainTextResponse(self.hosts.refusal(), status_code=421, headers={"Cache-Control": "no-store"})
        if len(scope.get("raw_path") or b"") > MAX_URL_PATH or len(scope.get("query_string", b"")) > MAX_URL_PATH:
            return PlainTextResponse("URI Too Long\n", status_code=414)
        return None

    async def dispatch(self, request: Request, path: str) -> Response:
        trimmed = path.rstrip("/") or "/"
        if path == f"{DEV_PREFIX}events":
            if cross_site(request):
                return PlainTextResponse("cross-site request refused\n", status_code=403)
            return self.events(request)
        if path == f"{DEV_PREFIX}client.js":
            return Response(CLIENT_JS, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-store"})
        if trimmed in self.signin_paths:
            return await self.signin(request)
        if trimmed in self.signout_paths:
            return self.signout(request)
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"})
        try:
            policy = self.state.policy()
        except SitegenError as exc:  # no build to serve: the first one failed
            return self._no_build(exc)
        return self.static(request.scope.get("raw_path") or path.encode("utf-8"), policy)

    # --- the built site ---------------------------------------------------------------

    def static(self, raw_path: bytes, policy: HeaderPolicy) -> Response:
        """build/ as S3 would serve it; anything ``locate`` refuses is the site's 404."""
        try:
            found = locate(self.state.output_dir, raw_path)
        except TooLong:
            return PlainTextResponse("URI Too Long\n", status_code=414)
        if isinstance(found, Redirect):
            return RedirectResponse(found.location, status_code=301)
        if isinstance(found, Found):
            return self._file(found.key, found.file, 200, policy)
        page = locate(self.state.output_dir, b"/404.html")
        if isinstance(page, Found):
            return self._file(page.key, page.file, 404, policy)
        return PlainTextResponse("Not Found", status_code=404)

    def _file(self, relative: str, target: Path, status: int, policy: HeaderPolicy) -> Response:
        headers = policy.headers(relative)
        data = target.read_bytes()
        if headers.content_type.startswith("text/html"):
            data = self._with_dev_markup(data)  # before compression, as publish would compress the page
        return Response(encode_body(data, headers), status_code=status, headers=headers.http())

    def _with_dev_markup(self, page: bytes) -> bytes:
        error = self.state.error  # read once: the rebuild thread may clear it meanwhile
        markup = CLIENT_TAG + (_overlay(error) if error else "")
        closing = page.rfind(b"</body>")
        encoded = markup.encode("utf-8")
        return page[:closing] + encoded + page[closing:] if closing >= 0 else page + encoded

    def _no_build(self, exc: SitegenError) -> Response:
        """The first build failed, so there is no last good build: the error, and the
        reload client, which reloads the page once a build succeeds."""
        error = self.state.error or BuildError.of(exc)
        body = f"<!doctype html><meta charset=utf-8><title>sitegen: no build yet</title><body>{CLIENT_TAG}{_overlay(error)}</body>"
        return HTMLResponse(body, status_code=503, headers={"Cache-Control": "no-store"})

    # --- live reload ----------------------------------------------------------------

    def events(self, request: Request) -> Response:
        channel, error, page = self.channel, self.state.error, request.query_params.get("page", "")
        if channel.listeners >= MAX_LISTENERS:
            return PlainTextResponse("too many open reload streams; close some tabs\n", status_code=503, headers={"Retry-After": "5"})

        async def stream() -> AsyncIterator[str]:
            queue = channel.subscribe(page)
            try:
                yield "retry: 500\n\n"
                if error is not None:  # a tab opened while the build is broken
                    yield _event("build-error", error.to_json())
                while True:
                    try:
                        event, data = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if event == CLOSE:
                        return
                    yield _event(event, data)
            finally:
                channel.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # --- dev sign-in ----------------------------------------------------------------

    async def signin(self, request: Request) -> Response:
        settings = self.state.config.fragments
        if request.method == "POST":
            if cross_site(request):  # another site must not sign the editor in as someone
                return PlainTextResponse("cross-site request refused\n", status_code=403)
            body = await request.body()
            form = {key: values[0] for key, values in parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace")).items()}
            user_id, name = form.get("user", "").strip(), form.get("name", "").strip()
            target = _local_path(form.get("next", "/"))
            try:
                cookie = self.codec.mint(User(user_id, name or user_id, self.store.generation(user_id)))
            except SitegenError as exc:
                return HTMLResponse(_signin_page(self._people(), target, str(exc)), status_code=400)
            response = RedirectResponse(target, status_code=303)
            response.headers["Set-Cookie"] = cookie_header(settings.cookie_name, cookie, settings.max_age_days * 86400)
            return response
        return HTMLResponse(
            _signin_page(self._people(), _local_path(request.query_params.get("next", "/")), ""), headers={"Cache-Control": "no-store"}
        )

    def signout(self, request: Request) -> Response:
        if cross_site(request):
            return PlainTextResponse("cross-site request refused\n", status_code=403)
        response = RedirectResponse(_local_path(request.query_params.get("next", "/")), status_code=303)
        response.headers["Set-Cookie"] = cookie_header(self.state.config.fragments.cookie_name, "", 0)
        return response

    def _people(self) -> list[tuple[str, str]]:
        """People of the archive, to sign in as with one click (the first 200 by name)."""
        try:
            people = read_index(self.state.output_dir / FRAGMENT_INDEX).people
        except SitegenError:
            return []
        return sorted(((pid, str(p.get("name", pid))) for pid, p in people.items()), key=lambda item: item[1].casefold())[:200]


def _overlay(error: BuildError) -> str:
    """The failed build over the page, for pages loaded while it is broken (open tabs draw it from the event)."""
    items = "".join(
        f'<p class="problem">{html.escape(p["where"])}: {html.escape(p["what"])}'
        + (f"<br>&nbsp;&nbsp;fix: {html.escape(p['fix'])}" if p["fix"] else "")
        + "</p>"
        for p in error.problems
    )
    return (
        '<div id="sitegen-error-overlay" role="alert" style="position:fixed;inset:0;z-index:2147483647;overflow:auto;'
        'background:rgba(20,20,20,.94);color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2em">'
        '<h1 style="font-size:18px;color:#ff8a80;margin:0 0 1em">sitegen: the last build failed; this page is the last good build</h1>'
        f"<p>{html.escape(error.summary)}</p>{items}</div>"
    )


def _event(name: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in (data.splitlines() or [""]))
    return f"event: {name}\n{lines}\n"


def _dev_paths(name: str, configured: str) -> set[str]:
    """Where the dev sign-in (or sign-out) answers: under /__sitegen/, and at the
    configured URL's path. The config allows full URLs (the site's own login app
    elsewhere), whose path may be "/": that stays the home page, never a sign-out."""
    path = urlsplit(configured).path.rstrip("/")
    return {f"{DEV_PREFIX}{name}", path} if path else {f"{DEV_PREFIX}{name}"}


def _local_path(target: str) -> str:
    """Only a path on this site: a sign-in must not redirect elsewhere."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _signin_page(people: list[tuple[str, str]], target: str, problem: str) -> str:
    links = "".join(
        f'<li><form method="post"><input type="hidden" name="user" value="{html.escape(pid)}">'
        f'<input type="hidden" name="name" value="{html.escape(name)}"><input type="hidden" name="next" value="{html.escape(target)}">'
        f"<button>{html.escape(name)}</button> <code>{html.escape(pid)}</code></form></li>"
        for pid, name in people
    )
    error = f'<p role="alert" style="color:#b00">{html.escape(problem)}</p>' if problem else ""
    return (
        "<!doctype html><meta charset=utf-8><title>Sign in (sitegen serve, development only)</title>"
        "<h1>Sign in as anyone</h1><p>Development only: <code>sitegen serve</code> signs the cookie with its own key. "
        "Follows and attendance come from the personal store (<code>sitegen fragments load</code>).</p>"
        f"{error}<form method=post><label>User id <input name=user required></label> "
        f'<label>Name <input name=name></label><input type=hidden name=next value="{html.escape(target)}"> '
        f"<button>Sign in</button></form><h2>People of the archive</h2><ul>{links}</ul>"
        f'<p><a href="{DEV_PREFIX}signout?next={quote(target)}">Sign out</a></p>'
    )
