"""The memory watchdog for real, and the sandbox with cgroups turned off (KIT_CGROUPS=off) using it."""

import os
import subprocess
import sys
import time

import pytest

from kit.grading import cgroups, sandbox, watchdog

MB = 2**20
# A tree: the outermost process starts two children that each allocate MB_EACH, and one orphan
# (its parent exits at once) that allocates as much again: it left the tree, not the session.
TREE = """
import os, subprocess, sys, time
HOLD = "import sys, time; block = bytearray(int(sys.argv[1]) * 2**20); time.sleep(60)"
children = [subprocess.Popen([sys.executable, "-c", HOLD, sys.argv[1]]) for _ in range(2)]
subprocess.Popen([sys.executable, "-c", "import subprocess, sys; subprocess.Popen(sys.argv[1:])",
                  sys.executable, "-c", HOLD, sys.argv[1]]).wait()
time.sleep(60)
"""


def start_tree(mb_each):
    return subprocess.Popen([sys.executable, "-c", TREE, str(mb_each)], start_new_session=True)


def wait_for_processes(process, count):
    """Until the tree (its session) has count live processes; they are still allocating then."""
    for _ in range(200):
        if len(watchdog.kernel_processes(process.pid)) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the tree did not start")


def test_a_tree_past_the_cap_is_killed_whole_and_the_kill_recorded():
    dog = watchdog.Watchdog(260 * MB)  # past it only once the orphan allocates too
    tree = start_tree(100)
    dog.watch(tree.pid)
    try:
        assert tree.wait(timeout=30) == -9
        for _ in range(40):  # the children die with the same sample; the last of them a moment later
            if not watchdog.kernel_processes(tree.pid):
                break
            time.sleep(0.05)
        assert not watchdog.kernel_processes(tree.pid), "a process of the tree (the orphan?) survived"
    finally:
        dog.stop()
    assert dog.killed and dog.peak > 260 * MB


def test_a_tree_under_the_cap_is_left_alone_and_its_peak_seen():
    dog = watchdog.Watchdog(1024 * MB)
    tree = start_tree(40)
    dog.watch(tree.pid)
    try:
        wait_for_processes(tree, 4)
        time.sleep(1.5)
        assert tree.poll() is None
        assert not dog.killed and 3 * 40 * MB < dog.peak < 1024 * MB  # three hold 40 MB each
    finally:
        dog.stop()
        os.killpg(tree.pid, 9)
        tree.wait()


@pytest.fixture
def cgroups_off(monkeypatch):
    monkeypatch.setenv("KIT_CGROUPS", "off")


def test_the_sandbox_without_cgroups_caps_memory_by_the_watchdog_and_says_so(cgroups_off):
    limits = sandbox.Limits(memory_bytes=128 * MB)
    with sandbox.Sandbox(limits) as box:
        assert box.enforced_limits()["memory"] == {"bytes": 128 * MB, "by": "watchdog"}
        assert "cpus" not in box.enforced_limits() and box.enforced_limits()["file_bytes"]["by"] == "rlimit"
        assert box.level.endswith("memory by watchdog")
        hog = box.launch([sandbox.python(), "-c", "import time; block = bytearray(512 * 2**20); time.sleep(30)"],
                         {"PATH": "/usr/bin:/bin"})
        assert hog.wait(timeout=30) != 0
        assert box.hit_memory_limit() and box.peak_memory() > 128 * MB
    assert box.level.endswith("memory by watchdog")


def test_the_sandbox_with_cgroups_names_them_and_gives_each_kernel_one_cpu():
    mechanism = cgroups.available()
    if os.geteuid() != 0 or not mechanism:
        pytest.skip("needs a writable cgroup hierarchy (root here)")
    with sandbox.Sandbox(sandbox.Limits(memory_bytes=512 * MB)) as box:
        limits = box.enforced_limits()
        assert limits["memory"] == {"bytes": 512 * MB, "by": mechanism} and box.watchdog is None
        assert limits["cpus"] == {"value": sandbox.DEFAULT_CPUS, "by": mechanism}
        assert limits["processes"] == {"value": 512, "by": mechanism}
        assert box.level.endswith(f"limits by {mechanism}")
    assert box.level.endswith(f"limits by {mechanism}"), "results.json reads the level after the sandbox closed"
