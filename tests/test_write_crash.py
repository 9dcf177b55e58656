"""A killed build never leaves a mix of two builds: after a kill at any
instant, the next build gives build/ exactly as a clean build of its input.

Kills are SIGKILLs of the real CLI (``tests/crashpoint.py`` stops it at the
Nth file operation on the output or its staging folder, or the test kills
it at a time), and every comparison is byte for byte, the state included
(only the report, which holds timings, is left out)."""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_SITE, REPO, TESTS, edit_collection, tree

from sitegen.cli import main
from sitegen.write import REPORT_FILE

TODAY = "2026-11-22"
CRASHPOINT = TESTS / "crashpoint.py"


def site_files(output: Path) -> dict[str, bytes]:
    files = tree(output)
    files.pop(REPORT_FILE, None)
    return files


def change_everything(site: Path) -> None:
    """Input B: a new site title (every page changes), a session gone, one
    added, and an event's slug changed (its pages move to a new folder)."""
    config = site / "sitegen.toml"
    config.write_text(config.read_text().replace('title = "Mini archive"', 'title = "Maxi archive"'))
    edit_collection(site, "events", lambda items: items[0].update(slug="minicon-classic"))

    def sessions(items: list) -> None:
        items.remove(next(s for s in items if s["id"] == "x3"))
        items.append({**items[0], "id": "x9", "slug": "looms", "title": "Jacquard looms", "speakers": ["p1"]})

    edit_collection(site, "sessions", sessions)


class Inputs:
    """A site whose input can be switched between A (the minimal site) and B,
    with a clean build of each to compare with."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.site = root / "site"
        shutil.copytree(MINIMAL_SITE, self.site, ignore=shutil.ignore_patterns("build", ".sitegen-cache"))
        for name in ("A", "B"):
            saved = root / "inputs" / name
            if name == "B":
                change_everything(self.site)
            shutil.copytree(self.site / "data", saved / "data")
            shutil.copy(self.site / "sitegen.toml", saved / "sitegen.toml")
        self.clean = {name: self._clean_build(name) for name in ("A", "B")}
        self.use("A")
        build(self.site)
        self.built_a = root / "built-A"
        shutil.copytree(self.site / "build", self.built_a)

    def use(self, name: str) -> None:
        saved = self.root / "inputs" / name
        shutil.rmtree(self.site / "data")
        shutil.copytree(saved / "data", self.site / "data")
        shutil.copy(saved / "sitegen.toml", self.site / "sitegen.toml")

    def _clean_build(self, name: str) -> dict[str, bytes]:
        self.use(name)
        build(self.site, "--output", f"clean-{name}")
        return site_files(self.site / f"clean-{name}")

    def start_from_a(self) -> None:
        """build/ as a finished build of A, nothing beside it; input B."""
        shutil.rmtree(self.site / "build")
        shutil.rmtree(self.site / ".build.staging", ignore_errors=True)
        shutil.copytree(self.built_a, self.site / "build")
        self.use("B")

    def assert_clean(self, name: str, context: object = None) -> None:
        assert site_files(self.site / "build") == self.clean[name], context
        assert not (self.site / ".build.staging").exists(), context


def build(site: Path, *args: str) -> None:
    """An ordinary build through the CLI, in this process."""
    result = CliRunner().invoke(main, ["build", "--root", str(site), "--today", TODAY, "-q", *args])
    assert result.exit_code == 0, result.output


def crash_run(site: Path, *options: str, stdin: int | None = None) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        str(CRASHPOINT),
        "--watch",
        str(site / "build"),
        "--watch",
        str(site / ".build.staging"),
        *options,
        "--",
        "build",
        "--root",
        str(site),
        "--today",
        TODAY,
        "-q",
    ]
    return subprocess.Popen(command, cwd=REPO, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def killed_at(site: Path, point: int, *options: str) -> None:
    process = crash_run(site, "--kill-at", str(point), *options)
    _, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, err


def operations(site: Path, log: Path, *options: str, exit_code: int = 0) -> list[str]:
    """The counted file operations of one build, run to its end."""
    log.unlink(missing_ok=True)
    process = crash_run(site, "--log", str(log), *options)
    _, err = process.communicate(timeout=120)
    assert process.returncode == exit_code, err
    return log.read_text().splitlines()


def journal_removed(ops: list[str]) -> int:
    """The number of the operation that ends the swap (the journal's removal)."""
    return next(int(line.split()[0]) for line in ops if line.split()[1:] and line.endswith("/forward.json") and " unlink " in line)


def spread(first: int, last: int, count: int) -> list[int]:
    if last - first + 1 <= count:
        return list(range(first, last + 1))
    return sorted({first + round(i * (last - first) / (count - 1)) for i in range(count)})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return Inputs(tmp_path_factory.mktemp("crash"))


@pytest.fixture(scope="module")
def swap_operations(inputs: Inputs, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    inputs.start_from_a()
    ops = operations(inputs.site, tmp_path_factory.mktemp("log") / "ops")
    inputs.assert_clean("B")
    return ops


def test_the_kill_points_cover_the_state_the_journal_and_the_moves(swap_operations: list[str]) -> None:
    # The index job's folder in the staging area is removed first (its files are counted too).
    swap = [line for line in swap_operations if "/sitegen-pagefind-" not in line]
    kinds = [line.split()[1] for line in swap]
    assert kinds[:2] == ["_write_staged"] * 2 and swap[0].endswith("state.check") and swap[1].endswith("state.marshal")
    assert kinds[2] == "write_atomically" and swap[2].endswith("forward.json")
    assert kinds.count("replace") > 40 and "unlink" in kinds and "rmdir" in kinds
    assert journal_removed(swap_operations) > 40


def test_a_build_killed_mid_swap_is_finished_by_the_next(inputs: Inputs, swap_operations: list[str]) -> None:
    """The fast tier's sample: half-way through the moves, then with the old input back."""
    middle = journal_removed(swap_operations) // 2
    for point, rebuild_with in ((middle, "B"), (middle + 1, "A")):
        inputs.start_from_a()
        killed_at(inputs.site, point)
        assert (inputs.site / ".build.staging" / "forward.json").exists()
        assert site_files(inputs.site / "build") not in (inputs.clean["A"], inputs.clean["B"])  # a mix, for now
        inputs.use(rebuild_with)
        build(inputs.site)
        inputs.assert_clean(rebuild_with)


@pytest.mark.slow
@pytest.mark.parametrize("rebuild_with", ["B", "A"], ids=["new-input", "old-input-back"])
def test_a_build_killed_at_any_file_operation_leaves_one_whole_build(inputs: Inputs, swap_operations: list[str], rebuild_with: str) -> None:
    end = journal_removed(swap_operations)
    points = spread(1, end, 22) + spread(end + 1, len(swap_operations), 4)  # the swap, then the clean-up
    assert len(points) >= 24
    for point in points:
        inputs.start_from_a()
        killed_at(inputs.site, point)
        inputs.use(rebuild_with)
        build(inputs.site)
        inputs.assert_clean(rebuild_with, (point, swap_operations[point - 1]))


@pytest.mark.slow
def test_a_kill_while_finishing_a_killed_swap_is_finished_by_the_next(inputs: Inputs, swap_operations: list[str], tmp_path: Path) -> None:
    first = journal_removed(swap_operations) // 2
    inputs.start_from_a()
    killed_at(inputs.site, first)
    saved = tmp_path / "saved"
    shutil.copytree(inputs.site, saved, symlinks=True)
    recovery = [line for line in operations(inputs.site, tmp_path / "ops") if "report.json" not in line]
    assert len(recovery) > 20  # the rest of the moves, the journal, the staging folder
    for point in spread(1, len(recovery), 7):
        for rebuild_with in ("B", "A"):  # with the old input back, a mix the state does not describe would stay
            shutil.rmtree(inputs.site)
            shutil.copytree(saved, inputs.site, symlinks=True)
            killed_at(inputs.site, point)
            inputs.use(rebuild_with)
            build(inputs.site)
            inputs.assert_clean(rebuild_with, (point, recovery[point - 1]))


def test_a_second_build_on_the_same_output_fails_naming_the_first(inputs: Inputs, swap_operations: list[str]) -> None:
    inputs.start_from_a()
    first = crash_run(inputs.site, "--pause-at", str(journal_removed(swap_operations) // 2), stdin=subprocess.PIPE)
    try:
        assert first.stdout is not None and first.stdin is not None
        paused = first.stdout.readline().split()
        assert paused == ["paused", str(first.pid)]
        before = tree(inputs.site / "build")
        second = CliRunner().invoke(main, ["build", "--root", str(inputs.site), "--today", TODAY, "-q"])
        assert second.exit_code == 1
        assert f"another sitegen process (pid {first.pid}) is using it" in second.output
        assert "Traceback" not in second.output
        assert tree(inputs.site / "build") == before  # the second did not touch the output, nor the first's staging
        first.stdin.write("\n")
        first.stdin.flush()
        _, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    inputs.assert_clean("B")


@pytest.mark.slow
@pytest.mark.parametrize("spelling", ["symlink", "dotted"])
def test_every_spelling_of_the_output_folder_takes_the_same_lock(inputs: Inputs, spelling: str) -> None:
    inputs.start_from_a()
    link = inputs.site / "buildlink"
    link.unlink(missing_ok=True)
    link.symlink_to("build", target_is_directory=True)
    other = {"symlink": link, "dotted": inputs.site / "data" / ".." / "buildlink" / ".." / "build"}[spelling]
    first = crash_run(inputs.site, "--pause-at", "1", stdin=subprocess.PIPE)
    try:
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline().split() == ["paused", str(first.pid)]
        before = tree(inputs.site / "build")
        second = CliRunner().invoke(main, ["build", "--root", str(inputs.site), "--today", TODAY, "-q", "--full", "--output", str(other)])
        assert second.exit_code == 1, second.output
        assert f"another sitegen process (pid {first.pid}) is using it" in second.output
        assert tree(inputs.site / "build") == before and link.is_symlink()
        assert not list(inputs.site.glob(".buildlink.*"))
        first.stdin.write("\n")
        first.stdin.flush()
        _, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    link.unlink()
    inputs.assert_clean("B")


def test_a_lock_left_by_a_killed_build_is_waited_for_not_refused(inputs: Inputs) -> None:
    """The killed build's forked workers (here: this process) still hold the
    lock, with the dead build's pid in it: the next build waits for them."""
    inputs.start_from_a()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    lock = inputs.site / ".build.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(dead.stdout)
        held.flush()
        process = crash_run(inputs.site)
        try:
            _wait_until_blocked_on(lock, process)
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    inputs.assert_clean("B")


def _wait_until_blocked_on(lock: Path, process: subprocess.Popen[str]) -> None:
    """Until /proc/locks shows the process waiting for the lock (no time limit
    but the test's: a build that refused instead would have ended)."""
    inode = os.stat(lock).st_ino
    while True:
        waiting = [
            line
            for line in Path("/proc/locks").read_text().splitlines()
            if "->" in line and f" {process.pid} " in line and f":{inode} " in line
        ]
        if waiting:
            return
        assert process.poll() is None, f"the build ended instead of waiting: {process.communicate()}"
        time.sleep(0.01)


def test_a_staging_folder_without_a_journal_is_deleted_and_the_output_kept(inputs: Inputs) -> None:
    """Killed before its commit point: the output was not touched."""
    inputs.start_from_a()
    killed_at(inputs.site, 2)  # the journal half written
    assert not (inputs.site / ".build.staging" / "forward.json").exists()
    assert site_files(inputs.site / "build") == inputs.clean["A"]
    inputs.use("A")
    build(inputs.site)
    inputs.assert_clean("A")
    report = json.loads((inputs.site / "build" / REPORT_FILE).read_text())
    assert report["files_rendered"] == 0 and report["files_written"] == 0


def test_a_failed_move_is_undone_with_one_message(inputs: Inputs, swap_operations: list[str]) -> None:
    inputs.start_from_a()
    process = crash_run(inputs.site, "--fail-at", str(journal_removed(swap_operations) // 2))
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "build: could not be written: [Errno 5] Input/output error" in err and "the previous build was kept" in err
    inputs.assert_clean("A")


def test_an_undo_that_fails_too_is_finished_by_the_next_build(inputs: Inputs, swap_operations: list[str]) -> None:
    middle = journal_removed(swap_operations) // 2
    inputs.start_from_a()
    process = crash_run(inputs.site, "--fail-at", str(middle), "--fail-at", str(middle + 4))
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "a failed write could not be undone" in err and "it first finishes the undo" in err
    assert (inputs.site / ".build.staging" / "back.json").exists()
    inputs.use("A")
    build(inputs.site)
    inputs.assert_clean("A")


@pytest.mark.slow
def test_a_kill_while_undoing_a_failed_move_leaves_one_whole_build(inputs: Inputs, swap_operations: list[str], tmp_path: Path) -> None:
    failed = journal_removed(swap_operations) // 2
    inputs.start_from_a()
    ops = operations(inputs.site, tmp_path / "ops", "--fail-at", str(failed), exit_code=1)
    inputs.assert_clean("A")
    assert any(line.endswith("/back.json") or " rename " in line for line in ops[failed:])
    for point in spread(failed + 1, len(ops), 8):
        for rebuild_with in ("A", "B"):
            inputs.start_from_a()
            killed_at(inputs.site, point, "--fail-at", str(failed))
            inputs.use(rebuild_with)
            build(inputs.site)
            inputs.assert_clean(rebuild_with, (point, ops[point - 1]))


def _load_gen() -> object:
    spec = importlib.util.spec_from_file_location("bench_gen", REPO / "bench" / "gen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Titles:
    """A generated archive whose input is one of two site titles (every page changes between them)."""

    def __init__(self, root: Path, sessions: int) -> None:
        gen: Any = _load_gen()
        self.site = root / "archive"
        gen.write(self.site, gen.generate(sessions, 1))
        self.config = (self.site / "sitegen.toml").read_text()
        self.clean = {}
        for title in ("A", "B"):
            self.use(title)
            build(self.site, "--output", f"clean-{title}")
            self.clean[title] = site_files(self.site / f"clean-{title}")

    def use(self, title: str) -> None:
        (self.site / "sitegen.toml").write_text(self.config.replace("Synthetic conference archive", f"Archive {title}"))


@pytest.mark.slow
def test_timed_kills_during_the_swap_of_a_big_site_leave_one_whole_build(tmp_path: Path) -> None:
    """Real SIGKILLs at 12 delays after the journal appears. The swap of this
    site (~1,500 files, every page changed) is stretched to about a second by
    a short sleep before each file operation, so the kills spread over it."""
    archive = Titles(tmp_path, 1000)
    site, journal = archive.site, archive.site / ".build.staging" / "forward.json"
    archive.use("A")
    build(site)
    current, kills, mid_swap, swap_seconds = (
        "A",
        12,
        0,
        0.0,
    )  # (22 took 160 s of CI's 20 minutes; the file-operation test kills at each operation)
    for kill in range(-1, kills):  # the first run is not killed: it measures the swap
        other = "B" if current == "A" else "A"
        archive.use(other)
        process = crash_run(site, "--op-delay", "0.0003")
        while not journal.exists():
            assert process.poll() is None, process.communicate()
            time.sleep(0.001)
        appeared = time.monotonic()
        if kill < 0:
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
            swap_seconds = time.monotonic() - appeared
            current = other
            continue
        time.sleep(swap_seconds * kill / (kills - 1))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=300)
        mid_swap += journal.exists()
        current = other if kill % 3 else current  # every third time, the old input is back for the next build
        archive.use(current)
        build(site)
        assert site_files(site / "build") == archive.clean[current], (kill, swap_seconds)
        assert not journal.parent.exists()
    print(f"swap {swap_seconds:.2f} s; {mid_swap} of {kills} kills landed mid-swap")
    assert swap_seconds > 0.5 and mid_swap >= 1


def test_a_build_that_fails_on_its_input_still_finishes_a_killed_swap_first(inputs: Inputs, swap_operations: list[str]) -> None:
    """Recovery comes before anything else: `sitegen serve` shows build/ even when the data is broken."""
    inputs.start_from_a()
    killed_at(inputs.site, journal_removed(swap_operations) // 2)
    edit_collection(inputs.site, "sessions", lambda items: items[0].update(event="no-such-event"))
    result = CliRunner().invoke(main, ["build", "--root", str(inputs.site), "--today", TODAY, "-q"])
    assert result.exit_code == 1 and "refers to unknown events id 'no-such-event'" in result.output
    inputs.assert_clean("B")


def test_a_damaged_journal_is_one_clear_message(inputs: Inputs, swap_operations: list[str]) -> None:
    inputs.start_from_a()
    killed_at(inputs.site, journal_removed(swap_operations) // 2)
    journal = inputs.site / ".build.staging" / "forward.json"
    journal.write_bytes(b'{"format": 1, "changed": [' + b"[" * 5000)
    result = CliRunner().invoke(main, ["build", "--root", str(inputs.site), "--today", TODAY, "-q"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{journal}: the journal of an interrupted build cannot be read" in result.output
    assert "delete the output folder and this staging folder" in result.output
    shutil.rmtree(inputs.site / ".build.staging")


def test_publish_after_a_killed_build_uploads_the_finished_build_not_the_mix(inputs: Inputs, swap_operations: list[str], s3: Any) -> None:
    """publish finishes the interrupted swap before it reads build/, so the bucket
    gets exactly the build the swap was making, every page with its assets."""
    from test_publish import pages_missing_assets, publish, site_objects

    proxy, client = s3
    inputs.start_from_a()
    killed_at(inputs.site, journal_removed(swap_operations) // 2)
    assert site_files(inputs.site / "build") not in (inputs.clean["A"], inputs.clean["B"])  # a mix on disk
    publish(inputs.site, proxy)
    inputs.assert_clean("B")
    published = site_objects(client)
    assert published == {path: data for path, data in inputs.clean["B"].items() if not path.startswith(".sitegen/")}
    assert pages_missing_assets(published) == []


def test_publish_refuses_while_a_build_holds_the_output(inputs: Inputs, s3: Any) -> None:
    """A build paused mid-write holds the lock: publish says so and uploads nothing."""
    proxy, _ = s3
    inputs.start_from_a()
    lock = os.open(inputs.site / ".build.lock", os.O_RDWR | os.O_CREAT)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        os.pwrite(lock, f"{holder.pid}\n".encode(), 0)
        result = CliRunner().invoke(main, ["publish", "--root", str(inputs.site), "--bucket", "site", "--endpoint-url", proxy.url])
    finally:
        holder.kill()
        holder.wait()
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
    assert result.exit_code != 0
    assert f"another sitegen process (pid {holder.pid}) is using it" in result.output
    assert "Traceback" not in result.output
    assert [op for op, _ in proxy.operations() if op in ("PutObject", "DeleteObjects", "CopyObject")] == []


def _status(pid: int, key: str) -> str | None:
    """A field of /proc/PID/status (None: no such process)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key + ":")), None)


def _alive(pid: int) -> bool:
    state = _status(pid, "State")
    return state is not None and not state.startswith("Z")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_build_leaves_no_index_job_and_the_next_build_removes_its_folder(tmp_path: Path) -> None:
    """kill -9 of `sitegen build` while its index job runs: the job dies with it
    (PR_SET_PDEATHSIG), its folder is in the build's staging folder, not in /tmp,
    and the next build removes it."""
    site = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, site)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    started = tmp_path / "pagefind-started"
    fake = tmp_path / "fake-pagefind"  # the job waits on it (it makes the runtime files on a first build)
    fake.write_text(f"#!/bin/sh\necho $$ > {started}\nexec cat > /dev/null\n")
    fake.chmod(0o755)
    env = {**os.environ, "PAGEFIND_BINARY_PATH": str(fake), "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "sitegen", "build", "--root", str(site), "--today", TODAY]
    build = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(1200):  # the job is running once it has started Pagefind
            if started.exists() and started.read_text().strip():
                break
            time.sleep(0.05)
        pagefind = int(started.read_text())
        job = int(_status(pagefind, "PPid") or 0)  # the index job, forked by the build
        assert job not in (0, build.pid) and _status(job, "PPid") == str(build.pid) and _alive(job) and build.poll() is None
    finally:
        build.kill()
        build.wait()
    for _ in range(600):
        if not _alive(job) and not _alive(pagefind):
            break
        time.sleep(0.05)
    assert not _alive(job) and not _alive(pagefind)
    staging = site / ".build.staging"
    names = sorted(p.name for p in staging.iterdir())
    assert len(names) == 2 and names[0] == "new" and names[1].startswith("sitegen-pagefind-")  # the job's folder
    assert list(scratch.iterdir()) == []
    env.pop("PAGEFIND_BINARY_PATH")
    rebuilt = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert not staging.exists()
    assert list(scratch.iterdir()) == []
