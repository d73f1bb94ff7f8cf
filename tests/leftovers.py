"""What hostile submissions (tests/hostile/) try to leave on the grading machine, planted and looked for."""

import ctypes
import os
import pathlib
import shutil

from kit.grading import kernel_users, shared_places

# swaps_the_judge_folder links the judge's folder here: a grader-side folder the kernel cannot see,
# holding a root-owned q5 (the question it times its swap for) that the judge must not remove
DECOY = pathlib.Path("/tmp/kit-hostile-decoy")
IPC_KEYS = {0x6B697401, 0x6B697402, 0x6B697403}  # leaves_ipc_objects' System V keys


def plant_decoy():
    shutil.rmtree(DECOY, ignore_errors=True)
    (DECOY / "q5" / "sub").mkdir(parents=True)
    (DECOY / "q5" / "secret").write_text("the grader's")
    (DECOY / "q5" / "secret").chmod(0o600)


def decoy_tree():
    return sorted((str(path.relative_to(DECOY)), path.stat().st_uid) for path in DECOY.rglob("*"))


def ipc_objects_left():
    """Rows of /proc/sysvipc that a kernel user id owns or that carry leaves_ipc_objects' keys."""
    uids = {str(uid) for uid in kernel_users.KERNEL_UIDS}
    left = []
    for kind in shared_places.SYSTEM_V:
        header, *rows = pathlib.Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        for row in (dict(zip(header.split(), line.split())) for line in rows):
            if {row["uid"], row["cuid"]} & uids or int(row["key"]) in IPC_KEYS:
                left.append((kind, row))
    return left


def posix_queue_left(name):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
    queue = libc.mq_open(name.encode(), os.O_RDONLY)
    if queue == -1:
        return False
    libc.mq_close(queue)
    libc.mq_unlink(name.encode())  # so that the next run starts clean
    return True
