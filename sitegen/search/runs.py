"""A word's entries in one batch, packed once when the batch is read (and kept with it).

In the index a word's pages are CBOR triples ``[delta, body]``-like: ``0x83``, the page
number's distance from the previous page's, and the entry's CBOR. In a batch whose pages
are numbered ``base + index`` (every page in the index, none moved: the usual case),
the distances between a word's entries in the batch are the distances between their
indexes, so every triple after the first is the same bytes in every build: a ``Run``
keeps them joined after the first entry's CBOR. Putting a word together is then a
distance and a join per batch that holds it, not a step per entry (``join``). A batch numbered otherwise (a
page without words, a URL another record replaces) has its runs unpacked (``unpack``)
and takes the general path.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import islice
from operator import sub
from typing import Any

from sitegen.search import cbor

#: count, first index, last index, the first entry's CBOR followed by the other triples,
#: the entries' size (for chunking), and the indexes, CBOR lengths and sizes (uint32s) to unpack
#: them (none for one entry).
Run = tuple[int, int, int, bytes, int, bytes]
_TRIPLE = b"\x83"
#: A triple's head and its distance from the last, by distance.
_STEPS = [_TRIPLE + cbor.encode_int(_d) for _d in range(4096)]


def pack(flat: list[Any]) -> Run:
    """A run from a word's flat entries in a batch (index, CBOR, size, index, CBOR, size, ...)."""
    if len(flat) == 3:  # most words of a batch are on one of its pages: the run says it all
        return (1, flat[0], flat[0], flat[1], flat[2], b"")
    indexes, bodies, sizes = flat[0::3], flat[1::3], flat[2::3]
    deltas = list(map(sub, islice(indexes, 1, None), indexes))
    parts = flat[:]  # index, CBOR, size, ... -> b"", CBOR, b"", (0x83, delta), CBOR, b"", ...
    parts[0], parts[2::3] = b"", [b""] * len(indexes)
    try:
        parts[3::3] = map(_STEPS.__getitem__, deltas)
    except IndexError:  # pages 4,096 or more apart in a batch
        parts[3::3] = [_TRIPLE + cbor.encode_int(delta) for delta in deltas]
    detail = array("I", [*indexes, *map(len, bodies), *sizes]).tobytes()
    return (len(indexes), indexes[0], indexes[-1], b"".join(parts), sum(sizes), detail)


def unpack(run: Run) -> list[Any]:
    """The flat entries a run was packed from."""
    count, first, _, data, size, detail = run
    if count == 1:
        return [first, data, size]
    values = array("I")
    values.frombytes(detail)
    indexes, lengths, sizes = values[:count].tolist(), values[count : 2 * count].tolist(), values[2 * count :].tolist()
    bodies, at = [data[: lengths[0]]], lengths[0]
    for previous, index, length in zip(indexes, islice(indexes, 1, None), islice(lengths, 1, None), strict=False):
        at += len(_TRIPLE) + len(cbor.encode_int(index - previous))
        bodies.append(data[at : at + length])
        at += length
    return [item for entry in zip(indexes, bodies, sizes, strict=True) for item in entry]


def bases(numbers: Sequence[Sequence[int]]) -> list[int | None]:
    """For each batch, ``base`` when its pages are numbered ``base + index``, else None."""
    out: list[int | None] = []
    for batch in numbers:
        base = batch[0] if batch else 0
        out.append(base if base >= 0 and list(batch) == list(range(base, base + len(batch))) else None)
    return out


def join(runs: Sequence[tuple[int, Run]], bases: Sequence[int | None]) -> tuple[bytes, int, int]:
    """A word's pages from its runs, each with its batch (in order; each batch's base not
    None): the CBOR array's items joined, how many, and their size."""
    parts: list[bytes] = []
    previous = count = size = 0
    ints, triple = cbor._INTS, _TRIPLE
    for batch, (n, first, last, data, run_size, _) in runs:
        base: int = bases[batch]  # type: ignore[assignment]
        delta = base + first - previous
        parts += (triple, ints.get(delta) or cbor.encode_int(delta), data)
        previous = base + last
        count += n
        size += run_size
    return b"".join(parts), count, size
