"""The kernel's jail: started by the grader (start), it sets up the sandbox from inside its namespaces,
drops privileges and becomes the kernel (main).

start runs `python -m kit.grading.jail <spec.json>`, under unshare where the machine gives
namespaces; main then runs as root (real, or of a user namespace), in fresh mount, PID, network and
IPC namespaces when the spec says so.
"""

import ctypes
import os
import pathlib
import resource
import signal
import subprocess
import sys

from .jail_spec import JailSpec

# --kill-child: when unshare dies (with the grader, see die_with_parent), the namespace dies with it
NAMESPACES = ["--mount", "--pid", "--net", "--ipc", "--fork", "--kill-child", "--mount-proc"]
PR_SET_PDEATHSIG = 1
KIT_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent  # the folder holding the kit package


def unshare_command(as_root):
    """unshare with the jail's namespaces; not as root, through a user namespace in which the grader is root."""
    return ["unshare", *([] if as_root else ["--user", "--map-root-user"]), *NAMESPACES]


def start(spec, spec_file, as_root):
    """Write spec to spec_file and start the jail on it; returns its Popen (the sandbox's outermost process)."""
    spec.write(spec_file)
    prefix = unshare_command(as_root) if spec.namespaces else []
    return subprocess.Popen([*prefix, sys.executable, "-m", "kit.grading.jail", str(spec_file)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, preexec_fn=die_with_parent,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(KIT_ROOT)})


def die_with_parent():
    """In the sandbox's first process, before it runs: it is killed when the grader dies (a worker killed
    from outside must not leave a kernel running), and it does not inherit the judge's memory limit."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))


def main(spec_path):
    spec = JailSpec.read(spec_path)
    for procs in spec.cgroup_procs:  # before anything else, so that all the kernel starts is counted
        pathlib.Path(procs).write_text(str(os.getpid()))
    if spec.namespaces:
        mount("--make-rprivate", "/")
        keep = [pathlib.Path(path) for path in spec.keep]
        # their modes before any cover (a covered /tmp would read as the cover's 0755)
        writable = {path: path.lstat().st_mode & 0o7777 for path in map(pathlib.Path, spec.writable_for_all)
                    if path.is_dir() and not path.is_symlink()}
        for path in spec.hidden:
            cover(pathlib.Path(path), keep, "size=64k,mode=0755", read_only=True)
        for path, mode in writable.items():  # parents first: a child inside one is gone, covered with it
            cover(path, keep, f"size={spec.tmp_bytes},mode={mode:o},nosuid,nodev", read_only=False)
        for path in spec.read_only:  # the Python installation: a bind of its own, made read-only
            mount("--bind", path, path)
            mount("-o", "remount,bind,ro", path)
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec.file_bytes, spec.file_bytes))
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
    if spec.uid is not None:
        os.setgroups([])
        os.setgid(spec.gid)
        os.setuid(spec.uid)
    os.chdir(spec.workspace)
    os.execve(spec.command[0], spec.command, spec.environment)


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
