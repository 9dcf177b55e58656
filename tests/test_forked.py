"""The one place sitegen forks (sitegen/forked.py), and the command's answer to Ctrl-C
(sitegen/__main__.py): an interrupt is one line and status 130, never a traceback from a
child or a pool it forked, and never click's "Aborted!" with status 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO

import sitegen.__main__ as entry
import sitegen.cli
from sitegen.errors import SitegenError
from sitegen.forked import Forked

#: The index job's shape: a forked job running the writer's fork pool (search/assemble.py), asleep.
POOL_UNDER_A_FORK = """
import sys, time
from sitegen.forked import Forked
from sitegen.search.assemble import _map
def work():
    _map(time.sleep, [30, 30], 2, None)
job = Forked(work, "test job", name="sitegen-test")
print("ready", flush=True)
try:
    job.result()
except KeyboardInterrupt:
    job.cancel()
    sys.exit(130)
"""


def _pool_workers(parent: int) -> int:
    """How many processes the forked job (the child of ``parent``) has started."""
    children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    return sum(len(subprocess.run(["pgrep", "-P", child], capture_output=True, text=True).stdout.split()) for child in children)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")
def test_ctrl_c_to_the_group_stops_a_fork_and_its_pool_without_a_traceback():
    process = subprocess.Popen(
        [sys.executable, "-c", POOL_UNDER_A_FORK],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        for _ in range(400):  # until the pool's two workers run
            if _pool_workers(process.pid) >= 2:
                break
            time.sleep(0.05)
        assert _pool_workers(process.pid) >= 2
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in err and "ForkPoolWorker" not in err, err


def test_a_childs_outcome_its_error_and_its_crash_come_back():
    assert Forked(lambda: {"a": [1, 2]}, "test job").result() == {"a": [1, 2]}

    def fails() -> None:
        raise SitegenError("it failed")

    with pytest.raises(SitegenError, match="it failed"):
        Forked(fails, "test job").result()
    with pytest.raises(SitegenError, match="killed by signal 9"):
        Forked(lambda: os.kill(os.getpid(), signal.SIGKILL), "test job").result()
    with pytest.raises(SitegenError, match="this is a bug in sitegen"):
        Forked(lambda: 1 / 0, "test job").result()


def test_an_interrupt_after_a_commands_work_is_one_line_and_status_130(monkeypatch, capsys):
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sitegen.cli.main, "main", interrupted)
    with pytest.raises(SystemExit) as exited:
        entry.run()
    assert exited.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_the_command_keeps_clicks_answers(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["sitegen", "no-such-command"])
    with pytest.raises(SystemExit) as exited:
        entry.run()
    assert exited.value.code == 2 and "No such command" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["sitegen", "--version"])
    with pytest.raises(SystemExit) as exited:
        entry.run()
    assert exited.value.code == 0 and "sitegen, version" in capsys.readouterr().out


@pytest.mark.parametrize(("raised", "status", "said"), [(None, 0, ""), (0, 0, ""), (3, 3, ""), ("a message", 1, "a message\n")])
def test_the_command_leaves_with_runs_status_once_its_output_is_flushed(monkeypatch, capsys, raised, status, said):
    """``main`` ends the process with ``os._exit`` (no teardown of the heap), with the status ``run`` gave."""
    left: list[int] = []

    class Left(Exception):
        pass

    def leave(code: int) -> None:
        left.append(code)
        raise Left

    def run() -> None:
        sys.stdout.write("the report")
        raise SystemExit(raised)

    monkeypatch.setattr(entry, "run", run)
    monkeypatch.setattr(entry.os, "_exit", leave)
    with pytest.raises(Left):
        entry.main()
    out = capsys.readouterr()
    assert left == [status] and out.out == "the report" and out.err == said


def test_the_command_whose_reader_left_exits_1(monkeypatch):
    """``sitegen … | head``: flushing the last output meets a closed pipe; status 1, nothing printed about it."""
    left: list[int] = []

    class Gone:
        def write(self, text: str) -> int:
            return len(text)

        def flush(self) -> None:
            raise BrokenPipeError

    monkeypatch.setattr(entry, "run", lambda: None)
    monkeypatch.setattr(entry.sys, "stdout", Gone())
    monkeypatch.setattr(entry.os, "_exit", left.append)
    entry.main()
    assert left == [1]
