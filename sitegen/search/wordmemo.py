"""The words pass's result kept between builds, so a rebuild puts together only the words
of the batches that changed.

A word's CBOR in the index depends only on the entries of the batches that hold it and on
those batches' page numbers. So when a rebuild's batches are the last build's but a few
(the same name, ``batches.BatchCache.key``, and the same page numbers), every word that is
in none of the few, then or now, is the same bytes as last time. The memo holds the last
words pass's words (word, CBOR, size) with each batch's name and page numbers; the rebuild
takes the words from it, puts together again those of the changed batches (their reads,
old and new, name them), and merges the two, in order. The result is the words pass's,
byte for byte (``tests/test_search_wordmemo.py`` holds them together).

One file, ``cache_dir/search/words.memo``: frames of marshal data (``kept.save_frames``)
sealed with its salt under the build's cache key, read only when the seal holds. Like the batch reads, it is never the only copy of anything:
a file that is missing, damaged, from other code, for another language or other meta
fields, or too large, only means the whole words pass runs, and is then written anew.
"""

from __future__ import annotations

import itertools
import marshal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sitegen.kept import load_frames, save_frames

NAME = "words.memo"
#: The largest memo read or written (pyvideo/data's: about 25 MB for 100,000 words).
MAX_MEMO = 256 * 1024 * 1024
#: Bumped when the memo's shape changes.
FORMAT = 2
#: The CBOR a frame of the file holds, about (``kept.save_frames``): what a save or a load holds at once.
FRAME_BYTES = 4 << 20
#: A word's (word, CBOR, size for chunking), as ``assemble.words`` gives them.
Word = tuple[str, bytes, int]


@dataclass(frozen=True)
class Memo:
    """The last words pass: each batch's name and page numbers, and every word in order."""

    keys: list[str]
    numbers: list[list[int]]
    words: list[Word]

    def changed(self, keys: list[str], numbers: list[list[int]]) -> tuple[list[int], list[int]]:
        """Which of this build's batches (by index) are not the memo's (a new name, or new page
        numbers), and which of the memo's batches are not this build's; ([], []) when none."""
        before = {key: index for index, key in enumerate(self.keys)}
        same: set[int] = set()
        new: list[int] = []
        for index, (key, batch_numbers) in enumerate(zip(keys, numbers, strict=True)):
            old = before.get(key)
            if old is not None and old not in same and self.numbers[old] == batch_numbers:
                same.add(old)
            else:
                new.append(index)
        return new, [index for index in range(len(self.keys)) if index not in same]


def load(folder: Path, salt: bytes, key: bytes) -> Memo | None:
    """The memo kept for this salt (the batch reads' salt: code, language, fields), or None."""
    frames = load_frames(folder / NAME, MAX_MEMO, salt, key)
    if frames is None:
        return None
    try:
        stored = marshal.loads(next(frames, b""))
        memo = Memo(list(stored[1]), [list(batch) for batch in stored[2]], [])
        for frame in frames:
            memo.words.extend(marshal.loads(frame))
    except (EOFError, ValueError, TypeError, IndexError, KeyError):
        return None
    if stored[0] != FORMAT or len(memo.keys) != len(memo.numbers) or len(memo.words) != stored[3] or not _sound(memo):
        return None
    return memo


def save(folder: Path, salt: bytes, key: bytes, keys: list[str], numbers: list[list[int]], words: list[Word]) -> None:
    """Keep this words pass (best effort: a cache folder that cannot be written only costs time),
    a frame of words at a time (at 100,000 sessions they are 113 MB)."""
    head = marshal.dumps((FORMAT, keys, numbers, len(words)))
    save_frames(folder / NAME, MAX_MEMO, salt, itertools.chain((head,), (marshal.dumps(part) for part in _parts(words))), key)


def _parts(words: list[Word]) -> Iterator[list[Word]]:
    """The words in runs of about ``FRAME_BYTES`` of CBOR each."""
    start = size = 0
    for index, (_, data, _) in enumerate(words):
        size += len(data)
        if size >= FRAME_BYTES:
            yield words[start : index + 1]
            start, size = index + 1, 0
    if start < len(words):
        yield words[start:]


def _sound(memo: Memo) -> bool:
    """Of the shapes the words pass gives (a sealed file is only as sound as whoever kept it)."""
    return (
        all(type(key) is str for key in memo.keys)
        and all(type(n) is int for batch in memo.numbers for n in batch)
        and all(type(w) is tuple and len(w) == 3 and (type(w[0]), type(w[1]), type(w[2])) == _SHAPE for w in memo.words)
    )


_SHAPE = (str, bytes, int)


def merged(kept: Iterable[Word], made: list[Word], remade: set[str]) -> list[Word]:
    """The memo's words but those in ``remade``, with ``made`` (the remade words still in the
    index), in order."""
    out = [word for word in kept if word[0] not in remade]
    out += made
    out.sort(key=_word)
    return out


def _word(item: Word) -> str:
    return item[0]
