"""The index job: what runs in the process forked for it (``sitegen.forked``)
before the render stage, so that its wall time overlaps rendering; the build
joins it before writing.

The child starts with the build's model in memory: it makes the records whose
objects changed (``recordmemo`` keeps the others' fingerprints), compares the
records' digest with the last build's, and when they changed writes the
index (``writer``) with Pagefind's runtime files (``runtime``), and stages each
file through the build's sink, as render workers do. Only a small outcome
comes back (``SearchResult``): no records or bundle bytes cross a pipe, and nothing
of the index waits for the render stage to end.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import resource
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from sitegen.bounded import read_file_bounded
from sitegen.errors import SearchError
from sitegen.search import batches
from sitegen.search.batches import KeptReads
from sitegen.search.bundle import content_addressed
from sitegen.search.plains import PlainTexts
from sitegen.search.recordmemo import RecordMemo
from sitegen.search.records import Deferred, SearchRecord, UrlOf, planned_records
from sitegen.search.run import MAX_FILE, pagefind_version
from sitegen.search.runtime import digests, is_runtime, runtime_files
from sitegen.search.writer import Previous, write_index

if TYPE_CHECKING:
    from sitegen.content import ContentResult
    from sitegen.model import Archive

#: The bundle's folder below the output folder.
BUNDLE_DIR = "pagefind"
#: Bumped when records or the bundle's post-processing change shape.
SEARCH_FORMAT = 4
#: Stages one output file (path, bytes); True when its bytes changed (``write.Stager.put``).
Sink = Callable[[str, bytes], bool]


@dataclass(frozen=True)
class SearchResult:
    """What the index job did."""

    #: The bundle's output paths (under ``BUNDLE_DIR``), new or kept.
    paths: tuple[str, ...]
    #: Those the job staged because their bytes changed.
    changed: tuple[str, ...]
    #: What the next build compares with (kept in the build's state).
    state: dict[str, Any]
    #: Whether the index was written (False: the last one was kept).
    ran: bool
    records: int
    #: The job's own wall seconds, and its peak resident size in MB (pages it shares with the build included).
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    #: Whether the last index was kept without looking at the records (``start_search``'s ``later``).
    left: bool = False
    #: The records made (``recordmemo`` kept the others' fingerprints, and their batches' reads).
    made: int = 0

    def hashed(self) -> list[str]:
        """The bundle's content-addressed files (immutable when published)."""
        return [path for path in self.paths if content_addressed(path)]


@dataclass(frozen=True)
class Inputs:
    """What the job reads: the model, and the last build's search state and output."""

    archive: Archive
    content: ContentResult
    url: UrlOf
    language: str
    #: Reads the last build's search state (called once, in the job, after the records are made).
    previous: Callable[[], Any]
    #: Whether a file of the last build is still in the output (``output``).
    exists: Callable[[str], bool]
    output: Path | None
    #: Where Pagefind's temporary folder goes (the build's staging folder: a killed build's is removed by the next).
    scratch: Path | None
    #: Where the index's batch reads are kept between builds, and whether they may be used; None: nowhere.
    kept: KeptReads | None = None
    #: The digest of each model object's raw data, by ``model.object_key`` (``ModelResult.sources``);
    #: None: no record is kept between builds (``recordmemo``).
    sources: Mapping[str, str] | None = None


def index_in_child(inputs: Inputs, sink: Sink) -> SearchResult:
    """``index_site`` as the forked job runs it, without the cyclic collector: the model is the
    parent's (a collection would walk, and so copy, it), and the writer makes no cycles to speak
    of but a million objects the collector would walk again and again."""
    gc.freeze()
    gc.disable()
    return index_site(inputs, sink)


def index_site(inputs: Inputs, sink: Sink) -> SearchResult:
    """Keep the last index when its records are the same, else write and stage a new one."""
    started = time.monotonic()
    plain, making = PlainTexts(inputs.kept), _Making()
    data, fingerprints = _records(inputs, plain, making)
    digest = records_digest(fingerprints, inputs.language)
    previous = inputs.previous()
    if isinstance(previous, dict) and previous.get("digest") == digest:
        kept = last_index(previous, inputs.exists, len(data))
        if kept is not None:
            plain.save(len(data))
            return dataclasses.replace(kept, made=making.count)
    runtime = f"{pagefind_version()}/{inputs.language}"
    reused, last = _runtime(inputs, previous, runtime), _last_bundle(inputs, previous)
    bundle = write_bundle(data, inputs.language, reused, inputs.scratch, inputs.kept, last, fingerprints, consume=True)
    plain.save(len(fingerprints))  # (after the read pass, which made the records it needed)
    files = {f"{BUNDLE_DIR}/{path}": data for path, data in sorted(bundle.items())}
    changed, sums = _stage(files, previous, sink, inputs.output)
    state = {"digest": digest, "files": tuple(files), "sums": sums, "runtime": runtime, "runtime_sha256": digests(bundle)}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    seconds, peak_mb = time.monotonic() - started, round(max(peak) / 1024, 1)
    return SearchResult(tuple(files), changed, state, True, len(fingerprints), seconds, peak_mb, made=making.count)


def last_index(previous: Any, exists: Callable[[str], bool], records: int, *, left: bool = False) -> SearchResult | None:
    """The last build's index as it is, from its search state (``previous``), when every file it names is still there."""
    kept = previous.get("files") if isinstance(previous, dict) else None
    if isinstance(kept, tuple) and kept and all(isinstance(p, str) and exists(p) for p in kept):
        return SearchResult(kept, (), dict(previous), ran=False, records=records, left=left)
    return None


def _records(inputs: Inputs, plain: PlainTexts, making: _Making) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Every record's data and ``batches.fingerprint``. A record the last build made from the
    same objects (``recordmemo``) is not made here: its fingerprint is the kept one, and it is
    made (``records.Deferred``) only if its batch is read again. The plain texts of Markdown
    fields are reused from the last build (``plain``). ``write_index`` lets the records go
    once it has read them (``consume``)."""
    memo = RecordMemo(inputs.kept, inputs.sources, inputs.archive.zones)
    data: list[dict[str, Any]] = []
    fingerprints: list[bytes] = []
    metas: dict[tuple[str, ...], dict[str, str]] = {}  # (a few sets of meta fields, each shared)
    for made_of, url, make in planned_records(inputs.archive, inputs.content, inputs.url, plain):
        key = memo.key(url, made_of) if made_of is not None else None
        found = memo.get(key)
        if found is None:
            made = making.record(make)
            record = made.data()
            found = (batches.fingerprint(record), tuple(made.meta))
            memo.put(key, *found)
            data.append(record)
        else:
            meta = metas.get(found[1])
            if meta is None:
                meta = metas[found[1]] = dict.fromkeys(found[1], "")
            data.append(Deferred(url, meta, partial(making.data, make)))
        fingerprints.append(found[0])
    memo.save()
    return data, fingerprints


class _Making:
    """Makes records, and counts them."""

    def __init__(self) -> None:
        self.count = 0

    def record(self, make: Callable[[], SearchRecord]) -> SearchRecord:
        self.count += 1
        return make()

    def data(self, make: Callable[[], SearchRecord]) -> dict[str, Any]:
        return self.record(make).data()


def _stage(files: dict[str, bytes], previous: Any, sink: Sink, output: Path | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Stage the files whose bytes the last build did not write; the changed paths, and every
    file's digest (in ``files``' order) for the next build. A content-addressed file (named by
    what it holds) with the digest the last build's record gives it, and in ``output`` a
    regular file of its size, is in place (the record goes live with the files it names), so
    it is not read back to be compared: most of a rebuild's index is thousands of such files.
    The few others (the entry, Pagefind's runtime files) are always compared."""
    before: dict[str, str] = {}
    if (
        output is not None
        and isinstance(previous, dict)
        and isinstance(previous.get("files"), tuple)
        and isinstance(previous.get("sums"), tuple)
    ):
        if len(previous["files"]) == len(previous["sums"]):
            before = dict(zip(previous["files"], previous["sums"], strict=True))
    sums = tuple(hashlib.blake2b(data, digest_size=16).hexdigest() for data in files.values())
    root = f"{output}/"
    changed = tuple(
        path
        for (path, data), digest in zip(files.items(), sums, strict=True)
        if not (before.get(path) == digest and content_addressed(path) and _in_place(root + path, len(data))) and sink(path, data)
    )
    return changed, sums


def _in_place(path: str, size: int) -> bool:
    """A regular file of this size (one lstat; a deleted file, a pipe or a link in its place is not)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == size


def write_bundle(
    records: list[dict[str, Any]],
    language: str,
    reused: tuple[Path, dict[str, str]] | None = None,
    scratch: Path | None = None,
    kept: KeptReads | None = None,
    previous: Previous | None = None,
    fingerprints: list[bytes] | None = None,
    *,
    consume: bool = False,
) -> dict[str, bytes]:
    """The bundle (path -> bytes): the index of these records (``SearchRecord.data()``) and the
    runtime files, from ``reused`` (the last bundle's folder and their SHA-256) or from Pagefind;
    ``kept``: where batch reads are kept between builds; ``previous`` reads the last bundle's files;
    ``fingerprints``: the records' ``batches.fingerprint``, when the caller has them; ``consume``:
    ``records`` is emptied and let go as soon as it is read (``writer.write_index``)."""
    folder, names = reused if reused is not None else (None, None)
    runtime = runtime_files(language, folder, names, scratch=scratch)
    wasm = f"wasm.{language}.pagefind" in runtime
    index = write_index(records, language, wasm=wasm, kept=kept, previous=previous, fingerprints=fingerprints, consume=consume)
    return {**index, **runtime}


def _last_bundle(inputs: Inputs, previous: Any) -> Previous | None:
    """Reads a file of the last build's bundle (bounded; None when absent or too large)."""
    if inputs.output is None or not isinstance(previous, dict):
        return None
    folder = inputs.output / BUNDLE_DIR

    def read(path: str) -> bytes | None:
        try:  # a regular file only (not a pipe or /dev/zero), of at most MAX_FILE bytes
            return read_file_bounded(folder / path, MAX_FILE, path, SearchError, "")
        except (OSError, SearchError):
            return None

    return read


def _runtime(inputs: Inputs, previous: Any, runtime: str) -> tuple[Path, dict[str, str]] | None:
    """The last bundle's folder and its runtime files with their SHA-256, when made by this
    Pagefind version for this language (``runtime``) and still there."""
    output = inputs.output
    if output is None or not isinstance(previous, dict) or previous.get("runtime") != runtime:
        return None
    files, sums = previous.get("files"), previous.get("runtime_sha256")
    if not isinstance(files, (tuple, list)) or not isinstance(sums, dict):
        return None
    prefix = f"{BUNDLE_DIR}/"
    names = [p[len(prefix) :] for p in files if isinstance(p, str) and p.startswith(prefix) and is_runtime(p[len(prefix) :])]
    if not names or not all(inputs.exists(prefix + name) and isinstance(sums.get(name), str) for name in names):
        return None
    return output / BUNDLE_DIR, {name: str(sums[name]) for name in names}


def records_digest(fingerprints: list[bytes], language: str) -> str:
    """What the bundle is made from: the records (``batches.fingerprint``), Pagefind's version, the options and this code's format."""
    digest = hashlib.sha256(orjson.dumps([SEARCH_FORMAT, pagefind_version(), language], option=orjson.OPT_SORT_KEYS))
    for record in fingerprints:
        digest.update(record)
    return digest.hexdigest()
