"""The orchestrator: a build is a pipeline of named stages.

    fetch -> model -> content -> assets -> render -> search -> write

A rebuild renders only the files whose inputs changed (``render.record``), on
every core, and writes only the files whose bytes changed.

Each stage gets what earlier stages produced and nothing else. The
orchestrator times them, tells a ``Reporter`` how things go (the CLI shows
progress bars on a terminal and plain lines in CI), and returns a
``BuildReport``. I/O is injected: the HTTP client, the clocks, and "today"
(which decides what counts as upcoming).
"""

from __future__ import annotations

import json
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen import __version__
from sitegen.assets import AssetBundle, build_assets
from sitegen.atomic import write_atomically
from sitegen.config import Config
from sitegen.content import ContentResult, build_content, count_texts
from sitegen.errors import DataError, OutputError, Problem, SearchError, TemplateError, clip
from sitegen.fetch import RawArchive, fetch_archive
from sitegen.model import Archive, build_archive
from sitegen.progress import Reporter, SilentReporter
from sitegen.render import render_site
from sitegen.render.holes import fragment_index
from sitegen.render.links import broken_links
from sitegen.render.parallel import available_cores
from sitegen.render.routes import Routes, output_path
from sitegen.search import BUNDLE_DIR, PendingSearch, SearchResult, start_search
from sitegen.search.bundle import listed_pages
from sitegen.search.verify import check_bundle
from sitegen.write import ASSET_MANIFEST, FRAGMENT_INDEX, REPORT_FILE, SEARCH_MANIFEST, STATIC_DIR, Stager, recover_output

if TYPE_CHECKING:
    import httpx


@dataclass
class BuildReport:
    source: str
    today: str
    built_at: str
    pages: int = 0
    assets: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    #: Pages and calendars rendered by this build; the rest were unchanged since the last.
    files_rendered: int = 0
    #: Records in the search index, and whether this build wrote it (False: the last index was kept).
    search_records: int = 0
    search_indexed: bool = False
    #: The index job's own wall seconds (it overlaps rendering; 0 when the last index was kept).
    search_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    api_requests: int = 0
    api_not_modified: int = 0
    api_retries: int = 0
    api_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    written: bool = False
    sitegen_version: str = __version__

    @property
    def total_seconds(self) -> float:
        return sum(self.stages.values())

    def to_json(self) -> bytes:
        data = asdict(self) | {"total_seconds": round(self.total_seconds, 4)}
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Clocks:
    """Injected time: a timer for stage timings, a monotonic clock and sleep for
    the fetch's retries and budget, and the wall clock for the report."""

    timer: Callable[[], float] = time.perf_counter
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def build_site(
    config: Config,
    *,
    today: date,
    write: bool = True,
    client: httpx.Client | None = None,
    reporter: Reporter | None = None,
    clocks: Clocks = Clocks(),
    full: bool = False,
) -> BuildReport:
    """Run the pipeline. With ``write=False`` (``sitegen check``) nothing is
    written; with ``full``, every file is rendered again (and still only the
    changed ones are written)."""
    reporter = reporter or SilentReporter()
    if write:  # before anything else: build/ is one whole build again if a killed one left a swap half-done
        recover_output(config.output_dir)
    report = BuildReport(source=config.source.url, today=today.isoformat(), built_at=clocks.now().isoformat(timespec="seconds"))

    @contextmanager
    def stage(name: str) -> Iterator[dict[str, str]]:
        reporter.stage_started(name)
        started = clocks.timer()
        outcome = {"detail": ""}
        yield outcome
        report.stages[name] = round(clocks.timer() - started, 4)
        reporter.stage_finished(name, report.stages[name], outcome["detail"])

    with stage("fetch") as out:
        raw = fetch_archive(
            config.source,
            root=config.root,
            cache_dir=config.cache_dir,
            client=client,
            sleep=clocks.sleep,
            clock=clocks.monotonic,
            now=clocks.now,
        )
        _report_warnings(config, report, reporter, raw.warnings)
        out["detail"] = _report_fetch(report, raw)

    with stage("model") as out:
        modelled = build_archive(raw.collections)
        archive = modelled.archive
        _report_warnings(config, report, reporter, modelled.warnings)
        out["detail"] = f"{len(archive.events)} events, {len(archive.sessions)} sessions, {len(archive.people)} people"

    with stage("content") as out:
        content = build_content(archive, config.content_dir)
        _report_warnings(config, report, reporter, content.warnings)
        out["detail"] = f"{count_texts(archive)} texts (rendered as pages need them), {len(content.pages)} pages"

    with stage("assets") as out:
        assets = build_assets([folder / "static" for folder in config.theme_chain])
        report.assets = len(assets.assets)
        out["detail"] = f"{report.assets} assets"

    if write:
        stager = Stager(config.output_dir, preserve={REPORT_FILE})
    else:  # `sitegen check` renders into a scratch folder, to read the pages back for the link check
        scratch = Path(tempfile.mkdtemp(prefix="sitegen-check-"))
        stager = Stager(scratch / "site")
    pending: PendingSearch | None = None
    try:
        # The index is written in its own process while the site renders; the search stage joins it.
        pending = _search_start(config, archive, content, None if full else stager.previous_record, stager.staging)
        with stage("render") as out:
            rendered = render_site(
                config,
                archive,
                content,
                assets,
                today,
                sources=modelled.sources,
                sink=stager.put,
                previous=None if full else stager.previous_record,
                workers=config.build.workers or available_cores(),
                start_progress=lambda total: reporter.progress("render", total),
            )
            extra = {**_asset_files(assets), FRAGMENT_INDEX: fragment_index(archive, Routes(config.site.base_url))}
            changed = [*rendered.changed, *(path for path, data in extra.items() if stager.put(path, data))]
            files = [*rendered.record.files, *extra]
            report.pages, report.files_rendered = rendered.pages, rendered.rendered
            out["detail"] = f"{rendered.pages} pages; {rendered.rendered} of {len(rendered.record.files)} files rendered"
        with stage("search") as out:
            search = pending.result()
            changed += _stage_search(search, stager)
            files += [*search.paths, SEARCH_MANIFEST]
            report.search_records, report.search_indexed, report.search_seconds = search.records, search.ran, round(search.seconds, 3)
            verb = "indexed" if search.ran else "unchanged, index kept"
            out["detail"] = f"{search.records} records {verb}; {len(search.paths)} files"
        if not write:
            _check_staged(config, stager.staging / "new", search, files, stage)
            report.peak_rss_mb = peak_rss_mb()
            return report
        with stage("write") as out:
            result = stager.commit(files, changed, {**rendered.record.to_data(), "search": search.state})
            report.files_written, report.files_unchanged = result.written, result.unchanged
            report.files_deleted, report.written = result.deleted, True
            out["detail"] = f"{result.written} written, {result.unchanged} unchanged, {result.deleted} deleted"
        report.peak_rss_mb = peak_rss_mb()
        _write_report(config.output_dir / REPORT_FILE, report)  # under the lock, as the next build cleans up after a killed one
    finally:
        if pending is not None:
            pending.cancel()
        stager.discard()
        if not write:
            shutil.rmtree(scratch, ignore_errors=True)
    return report


def _search_start(config: Config, archive: Archive, content: ContentResult, previous_record: Any, scratch: Path) -> PendingSearch:
    previous = previous_record.get("search") if isinstance(previous_record, dict) else None
    output = config.output_dir
    return start_search(
        archive,
        content,
        Routes(config.site.base_url).url,
        config.site.language,
        previous=previous,
        exists=lambda path: (output / path).is_file(),
        output=output,
        scratch=scratch,
    )


def _report_fetch(report: BuildReport, raw: RawArchive) -> str:
    """Put the fetch's figures in the report; the stage's one-line detail."""
    report.source, stats = raw.source, raw.stats
    report.api_requests, report.api_not_modified = stats.requests, stats.not_modified
    report.api_retries, report.api_bytes = stats.retries, stats.bytes_received
    counts = ", ".join(f"{len(items)} {name}" for name, items in raw.collections.items())
    return counts + (f"; {stats.requests} requests, {stats.not_modified} not modified" if stats.requests else "")


def _stage_search(search: SearchResult, stager: Stager) -> list[str]:
    """Stage the index's files and its manifest; the paths whose bytes changed."""
    changed = [path for path, data in search.files.items() if stager.put(path, data)]
    return changed + ([SEARCH_MANIFEST] if stager.put(SEARCH_MANIFEST, _search_manifest(search)) else [])


def _check_staged(
    config: Config, folder: Path, search: SearchResult, files: list[str], stage: Callable[[str], AbstractContextManager[dict[str, str]]]
) -> None:
    """`sitegen check`'s extra stages, over the staged site: the index names only
    pages of the build, and every internal link resolves (a build leaves these to check)."""
    base_path = Routes(config.site.base_url).base_path
    with stage("search check") as out:
        out["detail"] = _check_search(folder, search, dict.fromkeys(files), base_path)
    if config.output_dir.is_dir():
        with stage("built index") as out:
            out["detail"] = _check_built_index(config.output_dir)
    with stage("links") as out:
        elsewhere = [config.fragments.url_prefix, config.fragments.signin_url, config.fragments.signout_url]
        pages = _FilesOnDisk(folder, dict.fromkeys(files))
        broken = broken_links(pages, base_path, [p for p in elsewhere if p.startswith("/")])
        if broken:
            raise TemplateError(f"{len(broken)} internal link(s) lead to no page of the site:", broken)
        out["detail"] = "every internal link resolves"


def _search_manifest(search: SearchResult) -> bytes:
    """Which bundle files are content-addressed: publish gives them the immutable policy."""
    hashed = search.hashed()
    named = set(hashed)
    data = {"hashed": hashed, "entry": [p for p in search.paths if p not in named]}
    return (json.dumps(data, indent=0, sort_keys=True) + "\n").encode("utf-8")


def _check_search(folder: Path, search: SearchResult, files: Mapping[str, None], base_path: str) -> str:
    """That the index exists and every page it lists is a file of the build."""
    prefix = f"{BUNDLE_DIR}/"
    bundle = {path[len(prefix) :]: (folder / path).read_bytes() for path in search.paths}
    if not bundle:
        raise SearchError.at(BUNDLE_DIR, "holds no search index", "run sitegen build; report it if the index stays missing")
    declared, urls = listed_pages(bundle)
    missing = [url for url in urls if not url.startswith(base_path) or output_path(url[len(base_path) :]) not in files]
    problems = [Problem(clip(url), "is listed by the search index but is no page of the build", "build again") for url in missing[:50]]
    if declared != len(urls) or declared != search.records:
        problems.append(
            Problem(BUNDLE_DIR, f"lists {declared} pages and has {len(urls)} fragments for {search.records} records", "build again")
        )
    if problems:
        raise SearchError(f"The search index does not match the build ({len(missing)} page(s) missing):", problems)
    return f"{declared} pages listed, every one in the build"


def _check_built_index(output: Path) -> str:
    """That the index the last build wrote (``output/pagefind``) is whole: every file
    named exists, and every content-addressed file holds what its name says."""
    problems = check_bundle(output / BUNDLE_DIR, f"{output.name}/{BUNDLE_DIR}")
    if problems:
        raise SearchError(f"The built search index in {clip(str(output))} is damaged:", problems)
    return f"{output.name}/{BUNDLE_DIR} whole, every file as its name says"


def peak_rss_mb() -> float:
    """The largest resident size of this process or any worker it waited for, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, workers) / 1024, 1)  # Linux reports KiB


class _FilesOnDisk(Mapping[str, bytes]):
    """The rendered files, read from the scratch folder when the link check asks."""

    def __init__(self, folder: Path, paths: Collection[str]) -> None:
        self.folder, self.paths = folder, paths

    def __getitem__(self, path: str) -> bytes:
        if path not in self.paths:
            raise KeyError(path)
        return (self.folder / path).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


def _report_warnings(config: Config, report: BuildReport, reporter: Reporter, warnings: tuple[Problem, ...]) -> None:
    if warnings and config.build.strict:
        raise DataError(f"{len(warnings)} warning(s), and [build] strict is on:", warnings)
    for warning in warnings:
        report.warnings.append(str(warning))
        reporter.warning(warning)


def _asset_files(assets: AssetBundle) -> dict[str, bytes]:
    files = {f"{STATIC_DIR}/{asset.hashed}": asset.data for asset in assets.assets.values()}
    files[ASSET_MANIFEST] = assets.manifest_json()
    return files


def _write_report(path: Path, report: BuildReport) -> None:
    # The report holds timings, so it differs between builds; it is the one
    # file under build/ that is not part of the site (publish skips .sitegen/).
    try:
        write_atomically(path, report.to_json())
    except OSError as exc:
        raise OutputError.at(
            str(path), f"could not be written: {exc.strerror or exc}", "check free space and permissions (the site itself was written)"
        ) from None
