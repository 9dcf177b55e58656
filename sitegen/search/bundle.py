"""A bundle's file formats and names: encoded by the writer, read back by
``sitegen check`` and ``publish`` (``misnamed``), and made comparable
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

sitegen's layout (both the writer's and ``canonical``'s): pages are numbered
in page order (``page_key``: a group of ``GROUPS`` by a hash of the URL, then
the URL), a fragment is named after its group (``fragment_names``), and each
sort order is a file of its own (``sort/NAME.pf_sort``, named by the entry's
``sorts``) instead of a part of the meta, which the runtime loads whole before
any query. ``canonical`` needs the binary fed records in page order (``run``
does): it renames, it does not renumber.

The bundle's file formats: ``*.pf_*`` files are gzip of ``pagefind_dcd``
followed by CBOR (fragments: JSON). The entry (``pagefind-entry.json``) names
the meta and the sort files per language; the meta lists the pages, index
chunks and filter files.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sitegen.bounded import TooLarge, inflate
from sitegen.errors import SearchError, clip
from sitegen.search import cbor

SIGNATURE = b"pagefind_dcd"
ENTRY = "pagefind-entry.json"
#: No decoded file of a bundle is larger than this.
MAX_DECODED = 256 * 1024 * 1024
#: Fragment groups: a one-page edit renames its group's fragments (about 1/GROUPS of them).
GROUPS = 256
#: Hex characters of a group's hash in its fragments' names (40 bits).
GROUP_HASH = 10


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


def sort_name(language: str, data: bytes) -> str:
    """A sort file's name (``sort/NAME.pf_sort``): a hash of its bytes."""
    return f"{language}_{hashlib.sha256(data).hexdigest()[:7]}"


def encode_sort(name: str, order: Sequence[int]) -> bytes:
    """A sort file: what the meta's sorts held for this key, ``[name, page numbers]``."""
    return encode_file(cbor.encode([name, list(order)]))


def group_of(url: str) -> int:
    """A page's fragment group: stable, from its URL alone."""
    return int.from_bytes(hashlib.sha256(url.encode("utf-8")).digest()[:4], "big") % GROUPS


def page_key(url: str) -> tuple[int, str]:
    """Pages are numbered in this order (their group, then their URL)."""
    return group_of(url), url


def fragment_names(language: str, pages: Sequence[tuple[str, str]]) -> list[str]:
    """The fragments' names of these pages ((URL, Pagefind's ``full_hash`` of the
    fragment's JSON), in page order): ``{language}_{group, 2 hex}{group hash}{index
    in group, base 36}``, the group hash a SHA-256 of its members' hashes in order.
    Unique by construction; any change to a group's pages renames all of them."""
    keys = [page_key(url) for url, _ in pages]
    if any(a >= b for a, b in zip(keys, keys[1:], strict=False)):
        raise _broken("fragment", "lists its pages out of page order (the records must go in bundle.page_key order)")
    names: list[str] = []
    for group, members in itertools.groupby(zip(keys, pages, strict=True), key=lambda item: item[0][0]):
        hashes = [full for _, (_, full) in members]
        prefix = f"{language}_{group:02x}{_group_hash(hashes)}"  # once per group, not once per member
        names += [prefix + _base36(i) for i in range(len(hashes))]
    return names


def _group_hash(hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(hashes).encode("ascii")).hexdigest()[:GROUP_HASH]


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits


def meta_name(language: str, data: bytes) -> str:
    """The meta file's name (``pagefind.NAME.pf_meta``): a hash of its bytes."""
    return f"{language}_{hashlib.sha256(data).hexdigest()[:10]}"


def canonical(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The bundle in sitegen's layout: filter values sorted, fragments named by their
    group, sort orders in files of their own, and the files naming them renamed."""
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
        _rename_fragments(language, meta[1], out)
        info["sorts"] = _sort_files(language, [*meta[4], *_named_sorts(info, out)], out)
        meta[4] = []
        data = encode_file(cbor.encode(meta))
        info["hash"] = meta_name(language, data)
        out[f"pagefind.{info['hash']}.pf_meta"] = data
    out[ENTRY] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return out


def _rename_fragments(language: str, pages: list[list[Any]], out: dict[str, bytes]) -> None:
    """Name the meta's fragments (``pages``: [name, word count]) by their group, in ``out``."""
    found = []
    for page in pages:
        path = f"fragment/{page[0]}.pf_fragment"
        data = out.pop(path, None)
        if data is None:
            raise _broken(path, "is missing")
        raw = decode_file(path, data)
        found.append((path, data, _fragment_url(path, raw), full_hash(raw)))
    for page, name, (_, data, _, _) in zip(pages, fragment_names(language, [(url, h) for _, _, url, h in found]), found, strict=True):
        page[0] = name
        out[f"fragment/{name}.pf_fragment"] = data


def _named_sorts(info: dict[str, Any], out: dict[str, bytes]) -> list[Any]:
    """The sort orders in the files the entry names already (a bundle in sitegen's layout)."""
    named = info.get("sorts") or {}
    return [_decode(f"sort/{hashed}.pf_sort", out.pop(f"sort/{hashed}.pf_sort", None)) for hashed in named.values()]


def _sort_files(language: str, sorts: list[Any], out: dict[str, bytes]) -> dict[str, str]:
    """Each sort order as a file of its own (in ``out``); sort key -> the file's name."""
    names = {}
    for name, order in sorted(sorts, key=lambda item: item[0]):
        data = encode_sort(name, order)
        names[name] = sort_name(language, data)
        out[f"sort/{names[name]}.pf_sort"] = data
    return names


def _fragment_url(path: str, raw: bytes) -> str:
    try:
        return str(json.loads(raw)["url"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _broken(path, f"cannot be read: {clip(str(exc))}") from None


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
_SHORTEST = {".pf_index": 7, ".pf_filter": 7, ".pf_sort": 7, ".pf_meta": 10}
_FRAGMENT = ".pf_fragment"


def misnamed(paths: Iterable[str], read: Callable[[str], bytes], absent: Iterable[str] = ()) -> list[str]:
    """The files among ``paths`` (relative to the bundle; other files are let be) whose
    bytes (``read(path)``) are not what their names say. Index chunks are named after
    Pagefind's ``full_hash`` of what they decode to (``lang_`` and a prefix of it),
    filters, sorts and the meta after a SHA-256 of their bytes, each checked alone;
    a fragment's name is its group's (``fragment_names``), checked from all the
    group's fragments: a damaged member is refused, and a group whose members do
    not make its hash is refused whole, unless one of its members is ``absent``
    (named by the meta but missing, which the caller reports: the others cannot be
    checked without it). Each file is read once."""
    groups: dict[str, dict[str, str]] = {}
    bad = []
    for path in paths:
        if path.endswith(_FRAGMENT):
            key, index = _group_key(path)
            if key is None or index in groups.get(key, {}):
                bad.append(path)
            else:
                groups.setdefault(key, {})[index] = path
        elif content_addressed(path) and not _matches_name(path, read(path)):
            bad.append(path)
    incomplete = {_group_key(path)[0] for path in absent if path.endswith(_FRAGMENT)}
    for key, members in groups.items():
        bad += _misnamed_group(key, members, read, whole=key not in incomplete)
    return sorted(bad)


def _group_key(path: str) -> tuple[str | None, str]:
    """A fragment's group (its path up to its index) and its index, base 36; None: not a fragment name."""
    stem = path.rsplit("/", 1)[-1][: -len(_FRAGMENT)]
    language, _, rest = stem.rpartition("_")
    index = rest[2 + GROUP_HASH :]
    hexes = rest[: 2 + GROUP_HASH]
    if not language or len(hexes) < 2 + GROUP_HASH or hexes.strip("0123456789abcdef") or not index:
        return None, ""
    if index.strip("0123456789abcdefghijklmnopqrstuvwxyz") or _base36(int(index, 36)) != index:
        return None, ""
    return path[: -len(index + _FRAGMENT)], index


def _misnamed_group(key: str, members: dict[str, str], read: Callable[[str], bytes], *, whole: bool) -> list[str]:
    """A group's fragments that are not what their names say: those that cannot be
    read, or if all can and the group is ``whole``, all of them unless they make its name."""
    order = sorted(members, key=lambda index: int(index, 36))
    pages, unreadable = [], []
    for index in order:
        path = members[index]
        try:
            raw = decode_file(path, read(path))
            pages.append((_fragment_url(path, raw), full_hash(raw)))
        except SearchError:
            unreadable.append(path)
    if unreadable or not whole:
        return unreadable
    language = key.rsplit("/", 1)[-1].rpartition("_")[0]
    try:
        names = fragment_names(language, pages)
    except SearchError:
        return [members[index] for index in order]
    made = len(order) == int(order[-1], 36) + 1 and all(members[i].endswith(f"/{n}{_FRAGMENT}") for i, n in zip(order, names, strict=True))
    return [] if made else [members[index] for index in order]


def _matches_name(path: str, data: bytes) -> bool:
    """Whether a content-addressed file other than a fragment holds what its name says."""
    suffix = next((end for end in _SHORTEST if path.endswith(end)), None)
    if suffix is None:
        return False
    stem = path.rsplit("/", 1)[-1][: -len(suffix)]
    if suffix == ".pf_meta":
        stem = stem.removeprefix("pagefind.")
    language, _, short = stem.rpartition("_")
    if not language or len(short) < _SHORTEST[suffix]:
        return False
    if suffix != ".pf_index":
        return hashlib.sha256(data).hexdigest().startswith(short)
    try:
        return full_hash(decode_file(path, data)).startswith(short)
    except SearchError:
        return False


def content_addressed(path: str) -> bool:
    """Whether a bundle file's name carries a hash of its bytes (immutable when published).

    Index chunks, fragments (their group's), filters, sorts and the meta are; the
    entry, pagefind.js, its worker and the wasm files keep their names from build to build."""
    return path.endswith((".pf_index", _FRAGMENT, ".pf_filter", ".pf_sort", ".pf_meta"))


def listed_pages(files: Mapping[str, bytes]) -> tuple[int, list[str]]:
    """For ``sitegen check``: the page count the meta declares, and the URL of every fragment."""
    entry = _load_entry(files)
    declared = 0
    for info in entry["languages"].values():
        meta_path = f"pagefind.{info['hash']}.pf_meta"
        declared += len(_decode(meta_path, files.get(meta_path))[1])
    urls = [_fragment_url(path, decode_file(path, data)) for path, data in files.items() if path.startswith("fragment/")]
    return declared, sorted(urls)
