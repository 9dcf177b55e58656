"""A bundle's file formats and names: encoded by the writer, read back by
``sitegen check`` and ``publish`` (``matches_name``), and made comparable
with the Pagefind binary's (``canonical``, which the differential tests and
benchmarks use; the build does not need it, as the writer's bundle is
canonical as written).

Pagefind writes the values of each filter (and the sort orders in the meta)
in hash-map order, which differs from run to run, so the filter files, their
names, the meta file naming them and the entry naming the meta change on
every build though nothing else did. ``canonical`` sorts what comes in
hash-map order, and names each rewritten file after a hash of its bytes, as
Pagefind does: equal records then give an equal bundle, byte for byte. It
also gzips every index chunk and fragment again with this module's encoder
(their names are hashes of what they decode to, so they keep them): sitegen's
own writer (``writer``) and the Pagefind binary then give the same bytes.

The bundle's file formats: ``*.pf_*`` files are gzip of ``pagefind_dcd``
followed by CBOR (fragments: JSON). The entry (``pagefind-entry.json``) names
the meta per language; the meta lists the pages, index chunks and filter files.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Mapping
from typing import Any

from sitegen.bounded import TooLarge, inflate
from sitegen.errors import SearchError, clip
from sitegen.search import cbor

SIGNATURE = b"pagefind_dcd"
ENTRY = "pagefind-entry.json"
#: No decoded file of a bundle is larger than this.
MAX_DECODED = 256 * 1024 * 1024


def decode_file(path: str, data: bytes) -> bytes:
    """The payload of a ``*.pf_*`` file (after its signature)."""
    try:
        raw = inflate([data], ["gzip"], MAX_DECODED)
    except TooLarge:
        raise _broken(path, f"decodes to more than {MAX_DECODED} bytes") from None
    except (zlib.error, ValueError, OSError) as exc:
        raise _broken(path, f"is not gzip: {clip(str(exc))}") from None
    # One gzip member, ending the file: its trailer (CRC-32, length) is the file's last 8 bytes.
    if data[-8:] != (zlib.crc32(raw) & 0xFFFFFFFF).to_bytes(4, "little") + (len(raw) & 0xFFFFFFFF).to_bytes(4, "little"):
        raise _broken(path, "has bytes after its gzip data")
    if not raw.startswith(SIGNATURE):
        raise _broken(path, "lacks Pagefind's signature")
    return raw[len(SIGNATURE) :]


#: zlib's default level: level 9 takes four times as long on the index for 1% fewer bytes.
LEVEL = 6


def encode_file(payload: bytes) -> bytes:
    return gzip.compress(SIGNATURE + payload, compresslevel=LEVEL, mtime=0)


def filter_name(language: str, data: bytes) -> str:
    """A filter file's name (``filter/NAME.pf_filter``): a hash of its bytes."""
    return f"{language}_{hashlib.sha256(data).hexdigest()[:7]}"


def meta_name(language: str, data: bytes) -> str:
    """The meta file's name (``pagefind.NAME.pf_meta``): a hash of its bytes."""
    return f"{language}_{hashlib.sha256(data).hexdigest()[:10]}"


def canonical(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The bundle with its filter values sorted and the files naming them renamed."""
    out = dict(files)
    for path, data in files.items():
        if path.endswith((".pf_index", ".pf_fragment")):
            out[path] = encode_file(decode_file(path, data))
    entry = _load_entry(out)
    for language, info in entry["languages"].items():
        old_meta = f"pagefind.{info['hash']}.pf_meta"
        meta = _decode(old_meta, out.pop(old_meta, None))
        filters = meta[3]
        for pair in filters:
            name, hashed = pair
            old = f"filter/{hashed}.pf_filter"
            value = _decode(old, out.pop(old, None))
            value[1] = sorted(([v, sorted(pages)] for v, pages in value[1]), key=lambda item: item[0])
            data = encode_file(cbor.encode(value))
            pair[1] = filter_name(language, data)
            out[f"filter/{pair[1]}.pf_filter"] = data
        meta[3] = sorted(filters, key=lambda p: p[0])
        meta[4] = sorted(meta[4], key=lambda p: p[0])
        data = encode_file(cbor.encode(meta))
        info["hash"] = meta_name(language, data)
        out[f"pagefind.{info['hash']}.pf_meta"] = data
    out[ENTRY] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return out


def _load_entry(files: Mapping[str, bytes]) -> Any:
    try:
        entry = json.loads(files[ENTRY])
        if not isinstance(entry.get("languages"), dict):
            raise ValueError("no languages")
        return entry
    except (KeyError, ValueError, AttributeError) as exc:
        raise _broken(ENTRY, f"cannot be read: {clip(str(exc))}") from None


def _decode(path: str, data: bytes | None) -> Any:
    if data is None:
        raise _broken(path, "is missing")
    try:
        return cbor.decode(decode_file(path, data))
    except cbor.CborError as exc:
        raise _broken(path, f"cannot be read: {clip(str(exc))}") from None


def _broken(path: str, what: str) -> SearchError:
    return SearchError.at(f"pagefind/{path}", what, "build again; if it persists, report it with the pagefind version")


def full_hash(data: bytes) -> str:
    """SHA-1 with each byte as unpadded hex (Rust's ``{:x?}``), as Pagefind names files."""
    return "".join([_HEX[b] for b in hashlib.sha1(data).digest()])


_HEX = [format(b, "x") for b in range(256)]
#: The fewest hash characters a content-addressed name carries (the meta's: 10).
_SHORTEST = {".pf_fragment": 7, ".pf_index": 7, ".pf_filter": 7, ".pf_meta": 10}


def matches_name(path: str, data: bytes) -> bool:
    """Whether a content-addressed bundle file's bytes (``data``) are what its name
    (``path``, relative to the bundle) says: fragments and index chunks are named
    after Pagefind's ``full_hash`` of what they decode to (``lang_`` and a prefix of
    it, as the writer shortens it), filters and the meta after a SHA-256 of their
    bytes (``filter_name``, ``meta_name``). False for any other file."""
    suffix = next((end for end in _SHORTEST if path.endswith(end)), None)
    if suffix is None:
        return False
    stem = path.rsplit("/", 1)[-1][: -len(suffix)]
    if suffix == ".pf_meta":
        stem = stem.removeprefix("pagefind.")
    language, _, short = stem.rpartition("_")
    if not language or len(short) < _SHORTEST[suffix]:
        return False
    if suffix in (".pf_filter", ".pf_meta"):
        return hashlib.sha256(data).hexdigest().startswith(short)
    try:
        return full_hash(decode_file(path, data)).startswith(short)
    except SearchError:
        return False


def content_addressed(path: str) -> bool:
    """Whether a bundle file's name carries a hash of its bytes (immutable when published).

    Index chunks, fragments, filters and the meta are; the entry, pagefind.js,
    its worker and the wasm files keep their names from build to build."""
    return path.endswith((".pf_index", ".pf_fragment", ".pf_filter", ".pf_meta"))


def listed_pages(files: Mapping[str, bytes]) -> tuple[int, list[str]]:
    """For ``sitegen check``: the page count the meta declares, and the URL of every fragment."""
    entry = _load_entry(files)
    declared = 0
    for info in entry["languages"].values():
        meta_path = f"pagefind.{info['hash']}.pf_meta"
        declared += len(_decode(meta_path, files.get(meta_path))[1])
    urls = []
    for path, data in files.items():
        if path.startswith("fragment/"):
            try:
                urls.append(str(json.loads(decode_file(path, data))["url"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise _broken(path, f"cannot be read: {clip(str(exc))}") from None
    return declared, sorted(urls)
