"""The places outside its workspace where any user can leave something: world-writable folders and IPC.

Where the kernel has a mount namespace, each world-writable folder of the system gets a small tmpfs
of the kernel's own (jail.py) and an IPC namespace holds its System V objects and message queues;
all of it goes with the namespace. Where it has none (a container without CAP_SYS_ADMIN), the
kernel runs as a user id of its own, and remove_owned_by() takes away, once the kernel has ended,
what that user id left in those folders and in System V IPC.
"""

import ctypes
import hashlib
import json
import os
import pathlib
import shutil
import stat
import subprocess

# Searched for world-writable folders: the system's own trees and /tmp (every other top-level
# folder is covered, read-only, wherever a mount namespace exists; see sandbox.SYSTEM_TREES).
SEARCHED = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/dev", "/run", "/var", "/boot", "/tmp")
IPC_RMID = 0
# /proc/sysvipc file -> the libc call that removes one of its objects by id
SYSTEM_V = {"shm": lambda libc, key: libc.shmctl(key, IPC_RMID, None),
            "msg": lambda libc, key: libc.msgctl(key, IPC_RMID, None),
            "sem": lambda libc, key: libc.semctl(key, 0, IPC_RMID)}


def world_writable_folders(cache_folder=None):
    """Every folder any user may write to under SEARCHED (links not followed), parents before children.

    The search takes about half a second; with cache_folder (root's state folder) it is done once
    per boot and set of mounts (a new mount, /dev/mqueue say, brings folders of its own), since
    packages rarely add such folders while the machine runs.
    """
    cache = pathlib.Path(cache_folder) / f"world-writable-{machine_state(cache_folder)}.json" if cache_folder else None
    if cache and cache.exists():
        return json.loads(cache.read_text())
    tops = [top for top in SEARCHED if os.path.isdir(top) and not os.path.islink(top)]
    found = subprocess.run(["find", *tops, "-type", "d", "-perm", "-0002", "-print0"],
                           capture_output=True, timeout=120).stdout
    folders = sorted(name.decode() for name in found.split(b"\0") if name)
    if cache:
        for stale in cache.parent.glob("world-writable-*.json"):
            stale.unlink(missing_ok=True)
        partial = cache.with_suffix(".partial")
        partial.write_text(json.dumps(folders))
        partial.replace(cache)
    return folders


def machine_state(own_folder):
    """A digest of the boot and the mount points, but for those in own_folder (the kernels' workspaces)."""
    mounts = [line.split()[4] for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines()]
    own = f"{pathlib.Path(own_folder).resolve()}/"
    boot = pathlib.Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    digest = hashlib.sha256("\n".join([boot, *sorted(mount for mount in mounts if not mount.startswith(own))]).encode())
    return digest.hexdigest()[:16]


def remove_owned_by(uid, folders):
    """Remove what user id uid owns in folders (entries, at the top of each) and in System V IPC."""
    for folder in folders:
        remove_entries_owned_by(uid, folder)
    objects = {kind: system_v_objects_of(uid, kind) for kind in SYSTEM_V}
    if any(objects.values()):
        as_user(uid, lambda: remove_system_v(objects))


def remove_system_v(objects):
    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ids in objects.items():
        for key in ids:
            SYSTEM_V[kind](libc, key)


def as_user(uid, action):
    """Run action in a child that has taken on uid: removing another user's IPC object takes
    CAP_SYS_ADMIN, which root in a container lacks, while its owner and creator may always."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only drops its privileges and acts
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            action()
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def remove_entries_owned_by(uid, folder):
    """The entries of folder that uid owns; a folder of theirs goes whole, without crossing a link."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        for name in os.listdir(descriptor):
            try:
                info = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid != uid:
                continue
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(name, ignore_errors=True, dir_fd=descriptor)
            else:
                os.unlink(name, dir_fd=descriptor)
    finally:
        os.close(descriptor)


def system_v_objects_of(uid, kind):
    """Ids of the System V objects (kind: shm, msg or sem) that uid owns or made."""
    try:
        header, *rows = pathlib.Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
    except OSError:
        return []
    columns = header.split()
    id_column = columns[1]  # shmid, msqid or semid
    objects = [dict(zip(columns, row.split())) for row in rows]
    return [int(entry[id_column]) for entry in objects if str(uid) in (entry["uid"], entry["cuid"])]
