"""What a long-lived process keeps between its builds (``build.Warm``, as ``sitegen serve``
uses it): the state it committed, the objects the model found valid and the Markdown it
rendered. A warm rebuild reads and makes less, and builds the same site as a clean build."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, tree

import sitegen.write
from sitegen.build import REPORT_FILE, Warm, build_site
from sitegen.config import load_config
from sitegen.content import Texts
from sitegen.model.trusted import TRUSTED
from sitegen.render.record import Record

ONE_WORKER = {"build.workers": 1}


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls of: the state read back from ``build/`` ("state"), each collection's trusted
    reader (an object built, not taken as it was), Markdown rendered ("texts"), and the
    render record made from the state's data ("record")."""
    counted: Counter[str] = Counter()
    read_last_build = sitegen.write.read_last_build

    def read_state(*args: Any) -> Any:
        counted["state"] += 1
        return read_last_build(*args)

    monkeypatch.setattr(sitegen.write, "read_last_build", read_state)
    for collection, reader in list(TRUSTED.items()):

        def trusted(*args: Any, _reader: Any = reader, _collection: str = collection) -> Any:
            counted[_collection] += 1
            return _reader(*args)

        monkeypatch.setitem(TRUSTED, collection, trusted)
    render = Texts._render

    def rendered(self: Texts, text: str | None) -> Any:
        counted["texts"] += 1
        return render(self, text)

    monkeypatch.setattr(Texts, "_render", rendered)
    from_data = Record.from_data.__func__  # type: ignore[attr-defined]

    def record(cls: type[Record], data: Any) -> Any:
        counted["record"] += 1
        return from_data(cls, data)

    monkeypatch.setattr(Record, "from_data", classmethod(record))
    return counted


def edit(site: Path, collection: str, object_id: str, **fields: Any) -> None:
    path = site / "data" / f"{collection}.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    next(item for item in body["data"] if item["id"] == object_id).update(fields)
    path.write_text(json.dumps(body), encoding="utf-8")


def same_as_clean(site: Path) -> bool:
    build_site(load_config(site, {**ONE_WORKER, "build.output_dir": "clean", "build.cache_dir": "clean-cache"}), today=TODAY)
    ours, clean = tree(site / "build"), tree(site / "clean")
    ours.pop(REPORT_FILE), clean.pop(REPORT_FILE)
    return ours == clean


def test_a_warm_rebuild_takes_the_state_the_objects_and_the_texts_from_memory(minimal_site: Path, counts: Counter[str]) -> None:
    warm = Warm()
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    assert warm.committed is not None and warm.valid and warm.texts is not None
    counts.clear()
    edit(minimal_site, "sessions", "x1", title="A retitled talk", abstract="A *new* abstract.")
    report = build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    assert 0 < report.files_rendered
    assert counts["state"] == 0  # not read back: the check file is still the one this process wrote
    assert counts["record"] == 0  # the render record is this process's own, not made again from the state
    # Only the edited session is built (once with checks, once trusted to learn it); the rest are taken as they were.
    assert {name: n for name, n in counts.items() if name in TRUSTED} == {"sessions": 1}
    assert counts["texts"] == 1  # the new abstract; the other talks' summaries in lists and calendars were kept
    assert same_as_clean(minimal_site)


def test_a_cold_rebuild_does_all_of_it_again(minimal_site: Path, counts: Counter[str]) -> None:
    """The same edit without ``warm``: what the warm test saves is real work."""
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY)
    counts.clear()
    edit(minimal_site, "sessions", "x1", title="A retitled talk", abstract="A *new* abstract.")
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY)
    assert counts["state"] == 1 and counts["record"] == 1 and counts["sessions"] > 1 and counts["people"] > 0 and counts["texts"] > 1


def test_an_edited_person_is_built_again_with_every_session_that_shows_them(minimal_site: Path, counts: Counter[str]) -> None:
    warm = Warm()
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    sessions = json.loads((minimal_site / "data" / "sessions.json").read_text(encoding="utf-8"))["data"]
    showing = [s["id"] for s in sessions if "p1" in s.get("speakers", [])]
    assert showing
    counts.clear()
    edit(minimal_site, "people", "p1", name="Renamed Speaker")
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    assert counts["people"] == 1 and counts["sessions"] == len(showing)  # a session is not kept with the old person
    assert same_as_clean(minimal_site)


def test_a_build_by_another_process_in_between_is_read_back_not_overwritten_by_memory(minimal_site: Path, counts: Counter[str]) -> None:
    warm = Warm()
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    edit(minimal_site, "sessions", "x2", title="Built by a hand-run sitegen build")
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY)  # another process: its own state, its own check
    counts.clear()
    edit(minimal_site, "sessions", "x3", title="Then an edit serve sees")
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    assert counts["state"] == 1 and counts["record"] == 1  # the other process's record, not this one's
    assert same_as_clean(minimal_site)


def test_a_failed_warm_build_keeps_what_the_last_good_one_left(minimal_site: Path, counts: Counter[str]) -> None:
    warm = Warm()
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    committed, valid = warm.committed, warm.valid
    edit(minimal_site, "sessions", "x1", event="no-such-event")
    with pytest.raises(Exception, match="problem"):
        build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    assert warm.committed is committed and warm.valid is valid
    edit(minimal_site, "sessions", "x1", event="e1", title="Mended")
    build_site(load_config(minimal_site, ONE_WORKER), today=TODAY, warm=warm)
    assert same_as_clean(minimal_site)


def test_links_names_every_field_that_holds_another_object() -> None:
    """``LINKS`` (what a kept object must find unchanged to be taken as it was) against the types themselves."""
    import dataclasses
    import typing

    from sitegen.model import types

    models = {kind.__name__: collection for kind, collection in types.COLLECTION_OF.items()}
    for kind, collection in types.COLLECTION_OF.items():
        hints = typing.get_type_hints(kind)
        linked = []
        for field in dataclasses.fields(kind):
            named = {arg.__name__ for arg in _flat(hints[field.name]) if isinstance(arg, type)}
            linked += [(field.name, models[name]) for name in sorted(named & models.keys())]
        assert tuple(linked) == types.LINKS.get(collection, ()), collection


def _flat(hint: Any) -> list[Any]:
    import typing

    args = typing.get_args(hint)
    return [hint] if not args else [item for arg in args for item in _flat(arg)]
