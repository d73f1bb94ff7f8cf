"""Set up the kernel's sandbox from inside its namespaces, drop privileges, and become the kernel.

Run by sandbox.Sandbox.launch as `python -m kit.grading.jail <spec.json>`, as root (real, or of a
user namespace), in fresh mount, PID and network namespaces when the machine allows them.
"""

import json
import os
import pathlib
import resource
import subprocess
import sys

def main(spec_path):
    spec = json.loads(pathlib.Path(spec_path).read_text())
    for procs in spec["cgroup_procs"]:  # before anything else, so that all the kernel starts is counted
        pathlib.Path(procs).write_text(str(os.getpid()))
    if spec["namespaces"]:
        mount("--make-rprivate", "/")
        keep = [pathlib.Path(path) for path in spec["keep"]]
        # their modes before any cover (a covered /tmp would read as the cover's 0755)
        writable = {path: path.lstat().st_mode & 0o7777 for path in map(pathlib.Path, spec["writable_for_all"])
                    if path.is_dir() and not path.is_symlink()}
        for path in spec["hidden"]:
            cover(pathlib.Path(path), keep, "size=64k,mode=0755", read_only=True)
        for path, mode in writable.items():  # parents first: a child inside one is gone, covered with it
            cover(path, keep, f"size={spec['tmp_bytes']},mode={mode:o},nosuid,nodev", read_only=False)
        for path in spec["read_only"]:  # the Python installation: a bind of its own, made read-only
            mount("--bind", path, path)
            mount("-o", "remount,bind,ro", path)
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec["file_bytes"], spec["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    kernel = os.fork()
    if kernel == 0:
        become_kernel(spec)
    # This process stays as the namespace's first process: it reaps orphans, and when the kernel
    # ends it ends too, which takes every other process of the namespace with it.
    while True:
        pid, status = os.wait()
        if pid == kernel:
            os._exit(os.waitstatus_to_exitcode(status) % 256)


def become_kernel(spec):
    if spec["uid"] is not None:
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
    os.chdir(spec["workspace"])
    os.execve(spec["command"][0], spec["command"], spec["environment"])


def cover(path, keep, options, read_only):
    """Put an empty tmpfs over path (/dev/null over a file), then bind the kept paths inside it back.

    The kept paths are reached through file descriptors opened before the cover, so they stay the
    very folders they were (the Python installation, the kernel's workspace).
    """
    if path.is_symlink() or not path.exists() or path in keep:
        return
    if not path.is_dir():
        mount("--bind", "/dev/null", str(path))
        return
    inside = [(kept, os.open(kept, os.O_PATH)) for kept in keep if path in kept.parents]
    mount("-t", "tmpfs", "-o", options, "tmpfs", str(path))
    for kept, descriptor in inside:
        kept.mkdir(parents=True, exist_ok=True)
        mount("--bind", "--no-canonicalize", f"/proc/{os.getpid()}/fd/{descriptor}", str(kept))
        os.close(descriptor)
    if read_only:
        mount("-o", "remount,bind,ro", str(path))


def mount(*arguments):
    subprocess.run(["mount", *arguments], check=True, capture_output=True)


if __name__ == "__main__":
    main(sys.argv[1])
