"""The bundle's layout (sitegen/search/bundle.py): fragments named by their group,
pages numbered in group order, sort orders in files of their own named by the
entry; and the group check that ``publish`` and ``sitegen check`` make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sitegen.search import cbor
from sitegen.search.bundle import GROUP_HASH, decode_file, fragment_names, group_of, misnamed, page_key
from sitegen.search.verify import check_bundle
from sitegen.search.writer import write_index


def records(count: int = 600, edit: int | None = None) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        text = f"talk number {i} about topic{i % 9}" + (" edited" if i == edit else "")
        out.append(
            {"url": f"/t/{i}/", "content": text, "meta": {"title": f"T{i}"}, "filters": {}, "sort": {"date": f"2024-{1 + i % 12:02d}-01"}}
        )
    out.append({"url": "/p/", "content": "a person", "meta": {"title": "P"}, "filters": {}, "sort": {}})
    return out


def meta_and_entry(files: dict[str, bytes]) -> tuple[Any, Any]:
    entry = json.loads(files["pagefind-entry.json"])["languages"]["en"]
    path = f"pagefind.{entry['hash']}.pf_meta"
    return cbor.decode(decode_file(path, files[path])), entry


def fragment_url(files: dict[str, bytes], name: str) -> str:
    path = f"fragment/{name}.pf_fragment"
    return str(json.loads(decode_file(path, files[path]))["url"])


def test_pages_are_numbered_by_group_and_named_after_it():
    files = write_index(records(), "en", workers=1)
    meta, _ = meta_and_entry(files)
    names = [name for name, _ in meta[1]]
    urls = [fragment_url(files, name) for name in names]
    assert [page_key(url) for url in urls] == sorted(page_key(url) for url in urls)
    assert len(set(names)) == len(names) == 601
    for name, url in zip(names, urls, strict=True):
        stem = name.removeprefix("en_")
        assert int(stem[:2], 16) == group_of(url) and len(stem) > 2 + GROUP_HASH
    first = [name for name in names if int(name[3:5], 16) == group_of(urls[0])]
    assert [name[5 + GROUP_HASH :] for name in first] == [str(i) for i in range(len(first))]  # index in group, base 36
    assert len({name[: 5 + GROUP_HASH] for name in first}) == 1  # one group, one hash


def test_the_sort_orders_are_files_the_entry_names_not_part_of_the_meta():
    files = write_index(records(), "en", workers=1)
    meta, entry = meta_and_entry(files)
    assert meta[4] == []
    (name,) = entry["sorts"]
    path = f"sort/{entry['sorts'][name]}.pf_sort"
    key, order = cbor.decode(decode_file(path, files[path]))
    assert (name, key) == ("date", "date")
    urls = [fragment_url(files, meta[1][number][0]) for number in order]
    assert len(order) == 600 and "/p/" not in urls  # the person has no date
    date_of = {f"/t/{i}/": f"2024-{1 + i % 12:02d}-01" for i in range(600)}
    assert [date_of[url] for url in urls] == sorted(date_of.values())


def test_an_edit_renames_only_its_groups_fragments():
    before, after = write_index(records(), "en", workers=1), write_index(records(edit=7), "en", workers=1)
    gone = {p for p in before if p.startswith("fragment/") and p not in after}
    group = f"{group_of('/t/7/'):02x}"
    assert gone and all(p.removeprefix("fragment/en_")[:2] == group for p in gone)
    assert len(gone) == sum(group_of(r["url"]) == group_of("/t/7/") for r in records())


def test_fragment_names_need_pages_in_group_order():
    pages = sorted([(f"/{i}/", f"{i:x}") for i in range(40)], key=lambda page: page_key(page[0]))
    assert len(set(fragment_names("en", pages))) == 40
    try:
        fragment_names("en", pages[::-1])
    except Exception as exc:  # noqa: BLE001 - SearchError, named below
        assert "page order" in str(exc)
    else:
        raise AssertionError("out of order pages were named")


def test_a_group_is_checked_whole():
    files = write_index(records(), "en", workers=1)
    read = files.__getitem__
    assert misnamed(list(files), read) == []
    meta, _ = meta_and_entry(files)
    names = [name for name, _ in meta[1]]
    group = [f"fragment/{n}.pf_fragment" for n in names if n[:5] == names[0][:5]]
    assert len(group) >= 2
    # two members' bytes swapped: each is a whole fragment, but not the one its name says
    swapped = {**files, group[0]: files[group[1]], group[1]: files[group[0]]}
    assert misnamed(list(swapped), swapped.__getitem__) == sorted(group)
    # one member's bytes damaged: that member is refused
    damaged = {**files, group[1]: files[group[1]] + b" "}
    assert misnamed(list(damaged), damaged.__getitem__) == [group[1]]
    # a member missing: its group no longer makes its hash
    missing = {p: d for p, d in files.items() if p != group[-1]}
    assert misnamed(list(missing), missing.__getitem__) == sorted(group[:-1])
    # ... unless the caller knows it missing (the meta names it): that one is the problem
    assert misnamed(list(missing), missing.__getitem__, absent=[group[-1]]) == []
    # a sort file changed by hand
    sort = next(p for p in files if p.endswith(".pf_sort"))
    changed = {**files, sort: files[sort] + b"\n"}
    assert misnamed(list(changed), changed.__getitem__) == [sort]


def test_a_missing_fragment_is_one_problem_not_its_whole_group(tmp_path: Path):
    files = write_index(records(), "en", workers=1)
    meta, _ = meta_and_entry(files)
    names = [name for name, _ in meta[1]]
    group = [f"fragment/{n}.pf_fragment" for n in names if n[:5] == names[0][:5]]
    assert len(group) >= 2
    runtime = {"pagefind.js": b"", "pagefind-worker.js": b"", "wasm.en.pagefind": b""}  # what check_bundle asks of them: to be there
    for path, data in {**files, **runtime}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    assert check_bundle(tmp_path) == []
    (tmp_path / group[0]).unlink()
    assert [(p.where, p.what) for p in check_bundle(tmp_path)] == [(f"pagefind/{group[0]}", "is named by the index but missing")]
