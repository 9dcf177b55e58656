"""``sitegen serve``: the editor's loop.

Build once, serve ``build/`` on loopback with the headers ``publish`` would
set, watch the site's sources, rebuild incrementally on every edit, and tell
open tabs over server-sent events: reload, swap the stylesheet, or show the
failed build's error over the last good page.

This layer sits on top of the pipeline (``build``), the header policy of
``publish`` and the fragment service; only the CLI is above it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sitegen.build import BuildReport, Superseded
from sitegen.errors import OutputBusy, SitegenError
from sitegen.write import ASSET_MANIFEST

#: The event that ends a stream (never sent to the browser).
CLOSE = "close"
#: Sources whose only change is to these may be swapped in place instead of reloading the tab.
IN_PLACE_SUFFIXES = (".css",)
#: Page loads remembered by name (a hostile page could invent names without end).
MAX_PAGES = 1024
#: Seconds before a rebuild is tried again while another sitegen process holds build/.
BUSY_RETRY = 0.5


@dataclass(frozen=True)
class BuildError:
    """A failed build, as the overlay shows it."""

    summary: str
    problems: tuple[dict[str, str], ...]

    @classmethod
    def of(cls, exc: SitegenError) -> BuildError:
        problems = tuple({"where": p.where, "what": p.what, "fix": p.fix} for p in exc.problems)
        return cls(exc.summary, problems)

    def to_json(self) -> str:
        return json.dumps({"summary": self.summary, "problems": list(self.problems)}, ensure_ascii=False)


class Channel:
    """Server-sent events to every open tab. ``publish`` may be called from any
    thread; each subscriber is an asyncio queue on the server's loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: set[asyncio.Queue[tuple[str, str]]] = set()
        self._lock = threading.Lock()
        #: Every page load that has listened (the client names each by its start time).
        self.pages: set[str] = set()

    def subscribe(self, page: str = "") -> asyncio.Queue[tuple[str, str]]:
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._queues.add(queue)
            if page and len(self.pages) < MAX_PAGES:
                self.pages.add(page[:64])
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, str]]) -> None:
        with self._lock:
            self._queues.discard(queue)

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._queues)

    def close(self) -> None:
        """End every stream, so the server can stop without cutting them off."""
        self.publish(CLOSE)

    def publish(self, event: str, data: str = "") -> None:
        with self._lock:
            loop, queues = self._loop, list(self._queues)
        if loop is None:
            return
        for queue in queues:
            loop.call_soon_threadsafe(queue.put_nowait, (event, data))


class Rebuilder:
    """Runs builds one at a time on a thread of its own. Edits that arrive
    during a build are gathered and answered by one more build; a burst of
    events (an editor saving writes several) waits ``settle`` seconds. ``build``
    is told what changed (paths, or a reason in parentheses)."""

    def __init__(
        self,
        build: Callable[[frozenset[str]], BuildReport],
        done: Callable[[BuildReport | None, BuildError | None, frozenset[str]], None],
        settle: float = 0.05,
        waiting: Callable[[str], None] = lambda line: None,
    ) -> None:
        self._build, self._done, self._settle = build, done, settle
        #: Told once, when a rebuild starts waiting for another sitegen that holds ``build/``.
        self._waiting, self._busy = waiting, False
        self._pending: set[str] = set()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="sitegen-rebuild", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self, paths: Iterable[str]) -> None:
        with self._wake:
            self._pending.update(paths)
            self._wake.notify()

    def has_pending(self) -> bool:
        """Whether a request waits for the build under way to end (a catch-up build gives up for it)."""
        with self._wake:
            return bool(self._pending)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
            time.sleep(self._settle)  # let the rest of a burst arrive (a request must not cut this short)
            with self._wake:
                if self._stopped:
                    return
                changed, self._pending = frozenset(self._pending), set()
            try:
                report = self._build(changed)
            except Superseded:  # an edit came: it goes first, and what this build was for stays asked
                self.request(changed)
                continue
            except OutputBusy as exc:  # a build by hand or a publish holds build/: no failure of the site's; ask again soon
                if not self._busy:
                    self._busy = True
                    held = f"{exc.problems[0].where}: {exc.problems[0].what}" if exc.problems else str(exc)
                    self._waiting(f"waiting for {held}; the rebuild runs once it is free")
                time.sleep(BUSY_RETRY)
                self.request(changed)
                continue
            except SitegenError as exc:
                self._done(None, BuildError.of(exc), changed)
            except Exception as exc:  # noqa: BLE001 - a bug must not silently end all rebuilding
                logging.getLogger(__name__).exception("sitegen serve: the rebuild failed")
                self._done(None, BuildError(f"sitegen failed unexpectedly: {exc!r}; please report it", ()), changed)
            else:
                self._done(report, None, changed)
            self._busy = False


def stylesheet_urls(output_dir: Path, static_url: str) -> list[str]:
    """The URLs of the build's hashed stylesheets, for swapping in place."""
    try:
        manifest: dict[str, str] = json.loads((output_dir / ASSET_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return sorted(static_url + hashed for logical, hashed in manifest.items() if logical.endswith(".css"))


def in_place(changed: Iterable[str]) -> bool:
    paths = list(changed)
    return bool(paths) and all(path.endswith(IN_PLACE_SUFFIXES) for path in paths)
