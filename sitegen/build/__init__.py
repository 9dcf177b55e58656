"""The orchestrator: a build is a pipeline of named stages.

    fetch -> model -> content -> assets -> render -> search -> write

A rebuild renders only the files whose inputs changed (``render.record``), on
every core, and writes only the files whose bytes changed.

``build_site`` reads as that pipeline: one function per stage (``_fetch``,
``_model`` ... ``_write``), each doing its own bookkeeping in the report. With
nothing to write (``sitegen check``), the site is staged in a scratch folder
and ``check.py``'s extra stages read it back instead.

Each stage gets what earlier stages produced and nothing else. The
orchestrator times them, tells a ``Reporter`` how things go (the CLI shows
progress bars on a terminal and plain lines in CI), and returns a
``BuildReport``. I/O is injected: the HTTP client, the clocks, and "today"
(which decides what counts as upcoming).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.assets import AssetBundle, build_assets
from sitegen.atomic import write_atomically
from sitegen.build.check import check_staged
from sitegen.build.run import BuildReport, Clocks, Superseded, Warm, _Run, peak_rss_mb
from sitegen.config import Config
from sitegen.content import ContentResult, build_content, count_texts
from sitegen.errors import OutputError
from sitegen.fetch import RawArchive, fetch_archive
from sitegen.kept import cache_key as kept_cache_key
from sitegen.kept import unlink_links
from sitegen.memory import PssSampler, settled_collector
from sitegen.model import Archive, KnownObjects, ModelResult, build_archive
from sitegen.progress import Reporter, SilentReporter
from sitegen.render import render_site
from sitegen.render.holes import fragment_index
from sitegen.render.parallel import available_cores
from sitegen.render.record import Record
from sitegen.render.routes import Routes
from sitegen.search import KeptReads, PendingSearch, SearchResult, start_search
from sitegen.write import ASSET_MANIFEST, FRAGMENT_INDEX, REPORT_FILE, SEARCH_MANIFEST, STATIC_DIR, Stager, read_early, recover_output

if TYPE_CHECKING:
    import httpx

__all__ = ["REPORT_FILE", "BuildReport", "Clocks", "Superseded", "Warm", "build_site", "peak_rss_mb"]


@dataclass
class _Staged:
    """What the render and search stages put in the stager: every file of the
    site, those whose bytes changed, and the render stage's record."""

    record: Record
    files: list[str]
    changed: list[str]


def build_site(
    config: Config,
    *,
    today: date,
    write: bool = True,
    client: httpx.Client | None = None,
    reporter: Reporter | None = None,
    clocks: Clocks | None = None,
    full: bool = False,
    index_later: bool = False,
    stop_if: Callable[[], bool] | None = None,
    warm: Warm | None = None,
    cache_key: bytes | None = None,
) -> BuildReport:
    """Run the pipeline. With ``write=False`` (``sitegen check``) nothing is
    written; with ``full``, every file is rendered again (and still only the
    changed ones are written); with ``index_later`` (``sitegen serve`` after an
    edit), the last search index is kept as it is, for a later build to update;
    ``stop_if`` is asked between stages and while the index job runs, and when it
    says so the build raises ``Superseded`` before writing anything; ``warm``: what
    this process kept from its last build, and keeps from this one; ``cache_key``: what seals
    what the build keeps in the cache folder (default: ``kept.cache_key`` of this process's
    environment and home)."""
    reporter, clocks = reporter or SilentReporter(), clocks or Clocks()
    key = cache_key if cache_key is not None else kept_cache_key(os.environ)
    if write:  # before anything else: build/ is one whole build again if a killed one left a swap half-done
        recover_output(config.output_dir)
    unlink_links(config.cache_dir)
    report = BuildReport(source=config.source.url, today=today.isoformat(), built_at=clocks.now().isoformat(timespec="seconds"))
    with PssSampler() as memory, settled_collector() as settle:
        run = _Run(config, reporter, clocks, report, memory, settle, stop_if, warm, key)
        _pipeline(run, client, today=today, write=write, full=full, later=index_later)
    return report


def _pipeline(run: _Run, client: httpx.Client | None, *, today: date, write: bool, full: bool, later: bool) -> None:
    config = run.config
    raw = _fetch(run, client)
    run.carry_on()
    run.settle()  # the raw data, the model and the last build's record live as long as the build
    modelled = _model(run, raw, full=full, write=write)
    run.carry_on()
    run.settle()
    content = _content(run, modelled.archive)
    assets = _assets(run)
    stager, scratch = _open_stager(config, write)
    pending: PendingSearch | None = None
    try:
        # The index is written by a forked job while the site renders; the search stage joins it.
        # It is forked first: it reads its part of the last build's state while this process reads the rest.
        pending = _search_start(config, modelled, content, stager, run.key, full=full, later=later)
        stager.read_last(run.warm.committed if run.warm else None)
        run.settle()
        if stager.state_problem is not None:
            run.notice(stager.state_problem)
        staged = _render(run, modelled, content, assets, stager, today=today, full=full)
        if pending.left and _pages_gone(stager.previous_files, staged.files):  # the last index would link to them
            pending = _search_start(config, modelled, content, stager, run.key, full=full, later=False)
        run.carry_on()
        while run.stop_if is not None and not pending.ready(0.05):
            run.carry_on()  # (a build that may give up waits for the index job here, asking now and then)
        search = _search(run, pending, stager, staged)
        if write:
            _write(run, stager, staged, search)
        else:
            check_staged(config, stager.staged, search, staged.files, run.stage)
            _measure_memory(run)
    finally:
        if pending is not None:
            pending.cancel()
        stager.discard()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _fetch(run: _Run, client: httpx.Client | None) -> RawArchive:
    config, clocks = run.config, run.clocks
    with run.stage("fetch") as out:
        raw = fetch_archive(
            config.source,
            root=config.root,
            cache_dir=config.cache_dir,
            client=client,
            sleep=clocks.sleep,
            clock=clocks.monotonic,
            now=clocks.now,
            memory=run.warm.fetched if run.warm is not None else None,
            cache_key=run.key,
        )
        run.warn(raw.warnings)
        out["detail"] = _report_fetch(run.report, raw)
    return raw


def _model(run: _Run, raw: RawArchive, *, full: bool, write: bool) -> ModelResult:
    """The model stage: the objects the last build found valid are read without checks (unless
    ``full``; and ``sitegen check``, which writes nothing, checks every object)."""
    known = KnownObjects(run.config.cache_dir / "model" if write else None, run.key, trusted=not full)
    with run.stage("model") as out:
        modelled = build_archive(raw.collections, known, run.warm.valid if run.warm else None)
        if run.warm is not None:
            run.warm.valid = modelled.valid
        archive = modelled.archive
        run.warn(modelled.warnings)
        out["detail"] = f"{len(archive.events)} events, {len(archive.sessions)} sessions, {len(archive.people)} people"
    return modelled


def _content(run: _Run, archive: Archive) -> ContentResult:
    with run.stage("content") as out:
        content = build_content(archive, run.config.content_dir, run.warm.texts if run.warm else None)
        if run.warm is not None:
            run.warm.texts = content.texts
        run.warn(content.warnings)
        out["detail"] = f"{count_texts(archive)} texts (rendered as pages need them), {len(content.pages)} pages"
    return content


def _assets(run: _Run) -> AssetBundle:
    with run.stage("assets") as out:
        assets = build_assets([folder / "static" for folder in run.config.theme_chain])
        run.report.assets = len(assets.assets)
        out["detail"] = f"{run.report.assets} assets"
    return assets


def _open_stager(config: Config, write: bool) -> tuple[Stager, Path | None]:
    """The stager over ``build/``; and for `sitegen check`, the scratch folder it
    renders into instead (to read the pages back for the link check)."""
    if write:
        return Stager(config.output_dir, preserve={REPORT_FILE}), None
    scratch = Path(tempfile.mkdtemp(prefix="sitegen-check-"))
    return Stager(scratch / "site"), scratch


def _render(
    run: _Run, modelled: ModelResult, content: ContentResult, assets: AssetBundle, stager: Stager, *, today: date, full: bool
) -> _Staged:
    """The render stage: the pages, then the assets and the fragment index beside them."""
    config, reporter, archive = run.config, run.reporter, modelled.archive
    with run.stage("render") as out:
        rendered = render_site(
            config,
            archive,
            content,
            assets,
            today,
            sources=modelled.sources,
            sink=stager.put,
            previous=None if full else _last_record(run.warm, stager.previous_record),
            workers=config.build.workers or available_cores(),
            start_progress=lambda total: reporter.progress("render", total),
            cache_key=run.key,
        )
        extra = {**_asset_files(assets), FRAGMENT_INDEX: fragment_index(archive, Routes(config.site.base_url))}
        changed = [*rendered.changed, *(path for path, data in extra.items() if stager.put(path, data))]
        files = [*rendered.record.files, *extra]
        run.report.pages, run.report.files_rendered = rendered.pages, rendered.rendered
        out["detail"] = f"{rendered.pages} pages; {rendered.rendered} of {len(rendered.record.files)} files rendered"
    return _Staged(rendered.record, files, changed)


def _last_record(warm: Warm | None, data: Any) -> Any:
    """The last build's render record: this process's own (``Warm.record``) when the state
    holds the data it committed, so the record is not made again from the data; else the data."""
    kept = warm.record if warm is not None else None
    return kept[1] if kept is not None and data is not None and kept[0] is data else data


def _search(run: _Run, pending: PendingSearch, stager: Stager, staged: _Staged) -> SearchResult:
    """The search stage: join the index job, and stage its files and manifest."""
    report = run.report
    with run.stage("search") as out:
        search = pending.result()
        staged.changed += _stage_search(search, stager)
        staged.files += [*search.paths, SEARCH_MANIFEST]
        report.search_records, report.search_indexed, report.search_seconds = search.records, search.ran, round(search.seconds, 3)
        report.search_made = search.made
        report.search_peak_rss_mb, report.search_left = search.peak_rss_mb, search.left
        if search.left:
            out["detail"] = f"the last index kept for the next build to update; {len(search.paths)} files"
        else:
            verb = (
                f"indexed by the index job in {search.seconds:.2f} s beside rendering, {search.peak_rss_mb:.0f} MB peak"
                if search.ran
                else "unchanged, index kept"
            )
            made = "all made" if search.made == search.records else f"{search.made} made, the rest kept"
            out["detail"] = f"{search.records} records ({made}) {verb}; {len(search.paths)} files"
    return search


def _write(run: _Run, stager: Stager, staged: _Staged, search: SearchResult) -> None:
    """The write stage: commit the staged files to ``build/``, then the report beside them."""
    report = run.report
    with run.stage("write") as out:
        record = staged.record.to_data()
        result = stager.commit(staged.files, staged.changed, record, early=search.state)
        report.files_written, report.files_unchanged = result.written, result.unchanged
        report.files_deleted, report.written = result.deleted, True
        if run.warm is not None:
            run.warm.committed, run.warm.record = stager.committed, (record, staged.record)
        out["detail"] = f"{result.written} written, {result.unchanged} unchanged, {result.deleted} deleted"
    _measure_memory(run)
    _write_report(run.config.output_dir / REPORT_FILE, report)  # under the lock, as the next build cleans up after a killed one


def _search_start(
    config: Config, modelled: ModelResult, content: ContentResult, stager: Stager, key: bytes, *, full: bool, later: bool
) -> PendingSearch:
    """Fork the index job, which reads its record of the last build itself (the state's early
    part); with ``full`` (``--full``) it trusts neither that record nor the kept batch reads,
    and makes both anew."""
    output, fresh = stager.output_dir, stager.fresh
    return start_search(
        modelled.archive,
        content,
        Routes(config.site.base_url).url,
        config.site.language,
        stager.put,
        previous=lambda: None if full or fresh else read_early(output),
        exists=_files_in(output),
        output=output,
        scratch=stager.staging,
        kept=KeptReads(config.cache_dir / "search", key, trusted=not full),
        sources=modelled.sources,
        later=later and not full,
    )


def _files_in(output: Path) -> Callable[[str], bool]:
    """Whether a path under ``output`` is a file (a link to one counts, as for ``os.path.isfile``),
    each folder listed once: the index has tens of thousands of files in a few folders, and one
    listing costs a fraction of a stat per file."""
    listed: dict[str, frozenset[str]] = {}

    def exists(path: str) -> bool:
        folder, _, name = f"{output}/{path}".rpartition("/")
        names = listed.get(folder)
        if names is None:
            try:
                with os.scandir(folder) as entries:
                    names = listed[folder] = frozenset(entry.name for entry in entries if entry.is_file())
            except OSError:
                names = listed[folder] = frozenset()
        return name in names

    return exists


def _pages_gone(last: frozenset[str] | None, now: list[str]) -> bool:
    """Whether a page of the last build (``last``: its files, None when unknown) is not in this one."""
    current = set(now)
    return last is None or any(path.endswith(".html") and path not in current for path in last)


def _report_fetch(report: BuildReport, raw: RawArchive) -> str:
    """Put the fetch's figures in the report; the stage's one-line detail."""
    report.source, stats = raw.source, raw.stats
    report.api_requests, report.api_not_modified = stats.requests, stats.not_modified
    report.api_retries, report.api_bytes = stats.retries, stats.bytes_received
    counts = ", ".join(f"{len(items)} {name}" for name, items in raw.collections.items())
    return counts + (f"; {stats.requests} requests, {stats.not_modified} not modified" if stats.requests else "")


def _stage_search(search: SearchResult, stager: Stager) -> list[str]:
    """Stage the index's manifest (the job staged the index's files); the paths whose bytes changed."""
    return [*search.changed, *([SEARCH_MANIFEST] if stager.put(SEARCH_MANIFEST, _search_manifest(search)) else [])]


def _search_manifest(search: SearchResult) -> bytes:
    """The build's record of its search bundle: the SHA-256 of Pagefind's runtime files,
    which ``write.built`` checks them against (they keep their names from build to build)."""
    sums = search.state.get("runtime_sha256")
    data = {"runtime_sha256": sums if isinstance(sums, dict) else {}}
    return (json.dumps(data, indent=0, sort_keys=True) + "\n").encode("utf-8")


def _measure_memory(run: _Run) -> None:
    run.memory.sample()
    run.report.peak_rss_mb, run.report.peak_pss_sum_mb = peak_rss_mb(), run.memory.peak_mb


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
