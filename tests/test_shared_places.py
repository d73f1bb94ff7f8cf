"""kit/grading/shared_places.py: the places every user can write to are found, and a user id's leftovers there removed."""

import ctypes
import os
import pathlib
import tempfile

import pytest

from kit.grading import shared_places

STRANGER = 64_199  # outside the kernels' pool, so that no grading running beside this test owns it
IPC_PRIVATE, IPC_CREAT = 0, 0o1000
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="making files as another user id needs root")


def test_world_writable_folders_are_found_not_named(tmp_path):
    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:
        opened = pathlib.Path(scratch) / "deep" / "open to all"
        opened.mkdir(parents=True)
        opened.chmod(0o1777)
        found = shared_places.world_writable_folders()
        assert str(opened) in found and scratch not in found
    assert found == sorted(found), "parents come before the folders inside them"
    if os.path.isdir("/run/lock") and os.stat("/run/lock").st_mode & 0o002:
        assert "/run/lock" in found  # the folder the kit once left open: nothing names it
    cached = shared_places.world_writable_folders(tmp_path)
    assert list(tmp_path.glob("world-writable-*.json")) and shared_places.world_writable_folders(tmp_path) == cached


@root_only
def test_what_a_user_id_left_in_shared_places_is_removed(tmp_path):
    decoy = tmp_path / "decoy"  # the grader's: reachable through a link the user id left
    decoy.mkdir()
    (decoy / "keep").write_text("the grader's")
    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:
        os.chmod(scratch, 0o1777)
        folders = [scratch, *(folder for folder in ("/dev/shm",) if os.path.isdir(folder))]
        as_stranger(leave_things, scratch, str(decoy))
        assert len(os.listdir(scratch)) == 3 and shared_places.system_v_objects_of(STRANGER, "shm")
        shared_places.remove_owned_by(STRANGER, folders)
        assert os.listdir(scratch) == []
    for kind in shared_places.SYSTEM_V:
        assert shared_places.system_v_objects_of(STRANGER, kind) == [], kind
    assert (decoy / "keep").read_text() == "the grader's"


def leave_things(scratch, decoy):
    libc = ctypes.CDLL(None, use_errno=True)
    pathlib.Path(scratch, "file").write_text("left behind")
    pathlib.Path(scratch, "folder").mkdir()
    pathlib.Path(scratch, "folder", "link").symlink_to(decoy)
    pathlib.Path(scratch, "link").symlink_to(decoy)
    assert libc.shmget(IPC_PRIVATE, 2**20, IPC_CREAT | 0o600) >= 0
    assert libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600) >= 0
    assert libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600) >= 0


def as_stranger(action, *arguments):
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.setgid(STRANGER)
            os.setuid(STRANGER)
            action(*arguments)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
