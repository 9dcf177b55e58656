"""Wiring of ``sitegen serve``: the first build, the watcher, the rebuild
thread, the API poller and the HTTP server, started and stopped together."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import uvicorn
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from sitegen.build import BuildReport, Warm, build_site
from sitegen.config import CONFIG_FILE, Config, load_config
from sitegen.errors import FragmentError, OutputError, SitegenError
from sitegen.fetch import find_source, source_problems
from sitegen.fragments import make_codec, make_service
from sitegen.fragments.identity import IdentityCodec
from sitegen.fragments.store import open_store
from sitegen.progress import Reporter, SilentReporter
from sitegen.serve import BuildError, Channel, Rebuilder, in_place, stylesheet_urls
from sitegen.serve.app import DevApp, DevState
from sitegen.serve.guard import HostCheck
from sitegen.serve.protocol import KEEP_ALIVE, MAX_HEADER_BYTES, GuardedH11
from sitegen.write import staging_path

#: What an edit is: watchdog also reports files being opened and read, which
#: every build does to the templates; those must not start another build.
_EDITS = frozenset({"created", "modified", "deleted", "moved", "closed"})
#: Editors' scratch files.
_SCRATCH_SUFFIXES = ("~", ".swp", ".swx", ".tmp")
#: Connections and requests at once; more are answered 503 (a page opening hundreds must not exhaust the server).
MAX_CONNECTIONS = 256
#: The rebuilds that are not edits: the API's poll, and the search index's catch-up after an edit's rebuild.
API_DUE, INDEX_DUE = "(the API)", "(the search index)"
#: Seconds without an edit before the search index catches up (an edit during that build waits for it).
INDEX_AFTER = 1.0


class DevServer:
    """``sitegen serve``: ``start()`` builds, then serves and watches until ``stop()``."""

    def __init__(
        self,
        root: Path,
        overrides: Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        today: Callable[[], date] = date.today,
        poll_api: float | None = None,
        reporter: Reporter | None = None,
        log: Callable[[str], None] = lambda line: None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.root, self.overrides = root, dict(overrides or {})
        self.host, self.port, self.today, self.poll_api = host, port, today, poll_api
        self.reporter, self.log, self.environ = reporter or SilentReporter(), log, environ
        self.channel = Channel()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._observer: Any = None
        self._server: uvicorn.Server | None = None
        self._index_timer: threading.Timer | None = None
        self._warnings: set[str] = set()
        self._timer_lock = threading.Lock()
        #: What the rebuilds keep in memory between them (only the rebuilder's thread builds).
        self._warm = Warm()

    # --- start and stop ---------------------------------------------------------------

    def start(self) -> None:
        config = load_config(
            self.root, self.overrides, source_check=source_problems
        )  # a broken config at start is the CLI's error to print
        self.state = DevState(config.output_dir, config)
        try:
            self._report(build_site(config, today=self.today(), reporter=self.reporter, warm=self._warm), None, warned=True)
        except SitegenError as exc:
            self._report(None, BuildError.of(exc))
            self.state.error = BuildError.of(exc)
        self.rebuilder = Rebuilder(self._build_again, self._built, waiting=lambda line: self.log(line))
        self.rebuilder.start()
        self._watch(config)
        if self.poll_api:
            self._spawn(self._poll, "sitegen-poll-api")
        codec = self._codec(config)  # one key for the sign-in page and the fragment service
        self._store = open_store(config.fragments.store, config.root)
        # Nothing is answered until the port is known (with --port 0, once bound).
        self._app = DevApp(
            self.state,
            self.channel,
            fragments=self._fragments(config, codec),
            codec=codec,
            store=self._store,
            hosts=HostCheck(self.host, self.port or -1),
        )
        self._server = uvicorn.Server(
            uvicorn.Config(
                self._app,
                host=self.host,
                port=self.port,
                log_level="warning",
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=1,
                limit_concurrency=MAX_CONNECTIONS,
                http=GuardedH11,  # not httptools: it has no header size limit
                h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                timeout_keep_alive=KEEP_ALIVE,
            )
        )
        self._spawn(self._server.run, "sitegen-http")
        while not self._server.started:
            if not self._threads[-1].is_alive():
                raise OutputError.at(f"{self.host}:{self.port}", "the server could not start", "choose another --port")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        self._app.hosts = HostCheck(self.host, self.port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def stop(self) -> None:
        self._stopping.set()
        self.channel.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        with self._timer_lock:
            if self._index_timer is not None:
                self._index_timer.cancel()
        self.rebuilder.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        self._store.close()

    def wait(self) -> None:
        """Block until interrupted (Ctrl-C)."""
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    def _spawn(self, target: Callable[[], Any], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # --- building ---------------------------------------------------------------------

    def _build_again(self, changed: frozenset[str]) -> BuildReport:
        # Rebuilds run beside the server's threads, where forking workers is
        # unsafe; an edit re-renders few pages, which one process does quickly.
        # After an edit the search index is left as it was, so the page reaches the
        # tab without waiting for it; the build that follows (_index_soon) updates it.
        # That catch-up gives up for an edit that comes meanwhile (it is asked again after).
        config = load_config(self.root, {**self.overrides, "build.workers": 1}, source_check=source_problems)
        catch_up = changed == {INDEX_DUE}
        return build_site(
            config,
            today=self.today(),
            index_later=bool(changed - {INDEX_DUE, API_DUE}),
            stop_if=self.rebuilder.has_pending if catch_up else None,
            warm=self._warm,
        )

    def _index_soon(self) -> None:
        """Bring the search index up to date once no edit came for ``INDEX_AFTER`` seconds."""
        with self._timer_lock:
            if self._index_timer is not None:
                self._index_timer.cancel()
            if self._stopping.is_set():
                return
            self._index_timer = threading.Timer(INDEX_AFTER, self.rebuilder.request, args=([INDEX_DUE],))
            self._index_timer.daemon = True
            self._index_timer.start()

    def _built(self, report: BuildReport | None, error: BuildError | None, changed: frozenset[str]) -> None:
        self._report(report, error)
        if error is not None and changed == {INDEX_DUE}:
            return  # the catch-up's: an edit's own rebuild shows what is wrong with it to the tabs
        if error is not None:
            self.state.error = error
            self.channel.publish("build-error", error.to_json())
            return
        assert report is not None
        was_broken, self.state.error = self.state.error is not None, None
        self.state.generation += 1
        if self._app.fragments is None:  # the first build failed: now there is a fragment index to serve from
            self._app.fragments = self._fragments(self.state.config, self._app.codec)
        if report.search_left:
            self._index_soon()
        if not (was_broken or report.files_written or report.files_deleted):
            return  # nothing a tab shows has changed (an API poll with no news)
        if changed == {INDEX_DUE} and not (was_broken or report.files_rendered):
            self.channel.publish("search-index")  # only the index changed: a tab that searched reloads, the others need not
            return
        if not was_broken and in_place(changed):
            self.channel.publish("css", json.dumps(stylesheet_urls(self.state.output_dir, self.state.config.site.static_url)))
        else:
            self.channel.publish("reload")

    def _report(self, report: BuildReport | None, error: BuildError | None, *, warned: bool = False) -> None:
        """Log a build's outcome, and the warnings the last good build did not have (unless its reporter ``warned`` already)."""
        if error is not None:
            self.log(f"build failed (the last good build is still served): {error.summary}")
            for problem in error.problems:
                self.log(f"  {problem['where']}: {problem['what']}" + (f" (fix: {problem['fix']})" if problem["fix"] else ""))
        elif report is not None:
            seen, self._warnings = self._warnings, set(report.warnings)
            for warning in () if warned else report.warnings:
                if warning not in seen:  # the new ones: every rebuild repeats the data's old warnings
                    self.log(f"warning: {warning}")
            self.log(
                f"built in {report.total_seconds:.2f} s: {report.files_rendered} files rendered, "
                f"{report.files_written} written, {report.files_deleted} deleted"
            )

    def _poll(self) -> None:
        assert self.poll_api
        while not self._stopping.wait(self.poll_api):
            self.rebuilder.request([API_DUE])  # conditional requests: an unchanged API costs a few 304s

    # --- watching ---------------------------------------------------------------------

    def _watch(self, config: Config) -> None:
        root = config.root.resolve()
        folders = {folder for folder in (config.content_dir, *config.theme_chain) if folder.is_dir()}
        root_files = {root / CONFIG_FILE}
        for path in _local_data(config):
            if path.is_dir():
                folders.add(path)
            elif path.parent == root:
                root_files.add(path)
            else:
                folders.add(path.parent)
        ignored = [
            config.output_dir.resolve(),
            config.cache_dir.resolve(),
            staging_path(config.output_dir),
        ]
        handler = _EditHandler(self.rebuilder, ignored, root, frozenset(root_files))
        self._observer = Observer()
        for folder in sorted(_outermost(folders)):
            self._observer.schedule(handler, str(folder), recursive=True)
        self._observer.schedule(handler, str(root), recursive=False)  # sitegen.toml, and data files beside it
        self._observer.start()

    # --- the fragment service ---------------------------------------------------------

    def _codec(self, config: Config) -> IdentityCodec:
        if self.environ.get(config.fragments.keys_env):
            return make_codec(config, self.environ)
        # No keys configured: a key for this run only, so sign-ins last until the server stops.
        return IdentityCodec([secrets.token_urlsafe(32)], config.fragments.max_age_days * 86400)

    def _fragments(self, config: Config, codec: IdentityCodec) -> Any:
        try:
            return make_service(config, store=self._store, codec=codec).app
        except FragmentError as exc:  # e.g. the first build failed, so there is no fragment index yet
            self.log(f"holes stay empty until a build succeeds: {exc}")
            return None


class _EditHandler(FileSystemEventHandler):
    def __init__(self, rebuilder: Rebuilder, ignored: list[Path], root: Path, root_files: frozenset[Path]) -> None:
        self.rebuilder, self.ignored, self.root, self.root_files = rebuilder, ignored, root, root_files

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _EDITS or (event.is_directory and event.event_type in ("created", "modified")):
            return  # a new folder changes nothing until files land in it
        paths = [str(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        relevant = [p for p in paths if self._relevant(Path(p))]
        if relevant:
            self.rebuilder.request(relevant)

    def _relevant(self, path: Path) -> bool:
        if path.name.endswith(_SCRATCH_SUFFIXES) or path.name.startswith((".#", "#")):
            return False
        if path.parent == self.root and path not in self.root_files:
            return False  # the root folder is watched for sitegen.toml only; its folders have watches of their own
        return not any(path == folder or folder in path.parents for folder in self.ignored)


def _local_data(config: Config) -> list[Path]:
    """The files and folders a local source reads: edits there are edits to the data."""
    source = find_source(config.source.url)
    return [path.resolve() for path in source.local_paths(config.source.url, config.root)] if source else []


def _outermost(folders: set[Path]) -> set[Path]:
    """Drop folders inside others: each is watched once, recursively."""
    resolved = {folder.resolve() for folder in folders}
    return {folder for folder in resolved if not any(other != folder and other in folder.parents for other in resolved)}
