"""kit/grading/cgroups.py: v2 and v1 against their file layouts in a fake tree, and v1 for real here.

The fake tree stands in for the kernel's cgroupfs: mkdir in it makes a cgroup's interface files
(as the kernel does), rmdir takes them away, and every write is recorded, so that a test can say
exactly which files got which values.
"""

import os
import pathlib
import subprocess
import sys

import pytest

from kit.grading import cgroups

GIB = 2**30
V2_FILES = {"cgroup.procs": "", "cgroup.type": "domain", "cgroup.controllers": "cpu memory pids",
            "cgroup.subtree_control": "", "cgroup.kill": "", "memory.max": "max", "memory.swap.max": "max",
            "memory.peak": "0", "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
            "cpu.max": "max 100000", "pids.max": "max"}
V1_FILES = {"memory": {"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "9223372036854771712",
                       "memory.max_usage_in_bytes": "0", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
            "cpu": {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1", "cpu.shares": "1024"},
            "pids": {"pids.max": "max"}}
V1_OWN = "12:pids:/docker/abc\n5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n"


class FakeCgroupfs:
    def __init__(self, root, monkeypatch, files_of):
        self.root, self.files_of, self.writes = root, files_of, []
        mkdir, rmdir, write_text = pathlib.Path.mkdir, pathlib.Path.rmdir, pathlib.Path.write_text
        self.write_unrecorded = write_text

        def fake_mkdir(path, *args, **kwargs):
            existed = path.exists()
            mkdir(path, *args, **kwargs)
            if self.inside(path) and not existed:
                self.populate(path)

        def fake_rmdir(path):
            if self.inside(path):
                for file in path.iterdir():
                    if file.is_file():
                        file.unlink()
            rmdir(path)

        def recording_write_text(path, text, *args, **kwargs):
            if self.inside(path):
                self.writes.append((str(path.relative_to(root)), text))
            return write_text(path, text, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "mkdir", fake_mkdir)
        monkeypatch.setattr(pathlib.Path, "rmdir", fake_rmdir)
        monkeypatch.setattr(pathlib.Path, "write_text", recording_write_text)

    def inside(self, path):
        return self.root in pathlib.Path(path).parents

    def populate(self, folder, **changes):
        for name, text in {**self.files_of(folder), **changes}.items():
            if text is None:
                (folder / name).unlink(missing_ok=True)
            else:
                self.write_unrecorded(folder / name, text)  # the kernel's doing, not the module's


@pytest.fixture
def v2(tmp_path, monkeypatch):
    """A v2 host: the grader (pids 4242, 4243) in /system.slice/grader.service, controllers handed down to it."""
    root = tmp_path / "cgroup"
    fake = FakeCgroupfs(root, monkeypatch, lambda folder: V2_FILES)
    root.mkdir()
    fake.populate(root, **{"cgroup.type": None, "cgroup.subtree_control": "cpu memory pids",
                           "cgroup.controllers": "cpuset cpu io memory pids"})
    (root / "system.slice").mkdir()
    fake.populate(root / "system.slice", **{"cgroup.subtree_control": "cpu memory pids"})
    (root / "system.slice" / "grader.service").mkdir()
    fake.populate(root / "system.slice" / "grader.service", **{"cgroup.procs": "4242\n4243\n"})
    return fake


def create_v2(fake, own, name="kit-kernel-64100", **limits):
    return cgroups.Group.create(name, root=fake.root, read_own=lambda: own, **limits)


def test_v2_moves_the_grader_into_a_leaf_enables_the_controllers_and_writes_each_limit(v2):
    group = create_v2(v2, "0::/system.slice/grader.service\n", memory_bytes=GIB, cpus=0.5, processes=512)
    own = "system.slice/grader.service"
    assert v2.writes == [(f"{own}/kit-grader/cgroup.procs", "4242"), (f"{own}/kit-grader/cgroup.procs", "4243"),
                         (f"{own}/cgroup.subtree_control", "+memory +cpu +pids"),
                         (f"{own}/kit-kernel-64100/memory.max", str(GIB)),
                         (f"{own}/kit-kernel-64100/memory.swap.max", "0"),
                         (f"{own}/kit-kernel-64100/cpu.max", "50000 100000"),
                         (f"{own}/kit-kernel-64100/pids.max", "512")]
    assert group.procs_files == [v2.root / own / "kit-kernel-64100" / "cgroup.procs"]
    assert group.enforced() == {"memory": {"bytes": GIB, "by": "cgroup v2"}, "cpus": {"value": 0.5, "by": "cgroup v2"},
                                "processes": {"value": 512, "by": "cgroup v2"}}


def test_v2_a_second_grader_in_the_leaf_makes_its_group_beside_it_and_moves_nothing(v2):
    create_v2(v2, "0::/system.slice/grader.service\n")
    v2.writes.clear()
    group = create_v2(v2, "0::/system.slice/grader.service/kit-grader\n", name="kit-kernel-64101", processes=512)
    assert v2.writes == [("system.slice/grader.service/kit-kernel-64101/pids.max", "512")]
    assert group.procs_files == [v2.root / "system.slice/grader.service/kit-kernel-64101/cgroup.procs"]


def test_v2_in_the_root_of_the_hierarchy_nothing_moves(v2):
    (v2.root / "cgroup.subtree_control").write_text("")
    v2.writes.clear()
    create_v2(v2, "0::/\n")
    assert v2.writes == [("cgroup.subtree_control", "+memory +cpu +pids")]
    assert not (v2.root / cgroups.LEAF).exists()


def test_v2_reads_peak_and_oom_kills_joins_kills_and_removes(v2):
    group = create_v2(v2, "0::/system.slice/grader.service\n", memory_bytes=GIB)
    folder = v2.root / "system.slice/grader.service/kit-kernel-64100"
    (folder / "memory.peak").write_text("123456789\n")
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n")
    assert (group.peak_memory(), group.oom_kills()) == (123456789, 2)
    group.join(4321)
    group.kill({4321})
    assert v2.writes[-2:] == [(f"{folder.relative_to(v2.root)}/cgroup.procs", "4321"),
                              (f"{folder.relative_to(v2.root)}/cgroup.kill", "1")]
    (folder / "cgroup.procs").write_text("")  # the kernel empties it once the processes are gone
    group.remove()
    assert not folder.exists()


def test_v2_without_memory_peak_swap_or_a_controller(v2):
    """Before 5.19 there is no memory.peak (unknown); without swap accounting no memory.swap.max;
    a controller the parent lacks is neither enabled nor claimed."""
    own = v2.root / "system.slice/grader.service"
    (own / "cgroup.controllers").write_text("memory pids")
    v2.files_of = lambda folder: {**V2_FILES, "memory.peak": None, "memory.swap.max": None}
    v2.writes.clear()
    group = create_v2(v2, "0::/system.slice/grader.service\n", memory_bytes=GIB, cpus=1.0)
    assert ("system.slice/grader.service/cgroup.subtree_control", "+memory +pids") in v2.writes
    assert [path for path, _ in v2.writes if "kit-kernel" in path] == ["system.slice/grader.service/kit-kernel-64100/memory.max"]
    assert group.peak_memory() is None and group.limits == {"memory": GIB}


@pytest.fixture
def v1(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    fake = FakeCgroupfs(root, monkeypatch, lambda folder: {"cgroup.procs": "", **V1_FILES[folder.relative_to(root).parts[0]]})
    for controller in cgroups.CONTROLLERS:
        (root / controller / "docker" / "abc").mkdir(parents=True)  # mkdir -p: each level gets its files
    return fake


def test_v1_nests_a_folder_per_controller_in_the_own_cgroup_and_writes_each_limit(v1):
    group = cgroups.Group.create("kit-kernel-64100", memory_bytes=GIB, cpus=0.5, processes=512, root=v1.root,
                                 read_own=lambda: V1_OWN)
    assert v1.writes == [("memory/docker/abc/kit-kernel-64100/memory.limit_in_bytes", str(GIB)),
                         ("memory/docker/abc/kit-kernel-64100/memory.memsw.limit_in_bytes", str(GIB)),
                         ("cpu/docker/abc/kit-kernel-64100/cpu.cfs_period_us", "100000"),
                         ("cpu/docker/abc/kit-kernel-64100/cpu.cfs_quota_us", "50000"),
                         ("pids/docker/abc/kit-kernel-64100/pids.max", "512")]
    assert group.procs_files == [v1.root / controller / "docker/abc/kit-kernel-64100/cgroup.procs"
                                 for controller in cgroups.CONTROLLERS]
    assert group.enforced()["memory"] == {"bytes": GIB, "by": "cgroup v1"}
    memory = v1.root / "memory/docker/abc/kit-kernel-64100"
    (memory / "memory.max_usage_in_bytes").write_text("987654321\n")
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    assert (group.peak_memory(), group.oom_kills()) == (987654321, 3)
    group.remove()
    assert not any((v1.root / controller / "docker/abc/kit-kernel-64100").exists() for controller in cgroups.CONTROLLERS)


def test_v1_without_swap_accounting_writes_no_memsw(v1):
    v1.files_of = lambda folder: {"cgroup.procs": "", **V1_FILES[folder.relative_to(v1.root).parts[0]],
                                  "memory.memsw.limit_in_bytes": None}
    cgroups.Group.create("kit-kernel-1", memory_bytes=GIB, root=v1.root, read_own=lambda: V1_OWN)
    assert v1.writes == [("memory/docker/abc/kit-kernel-1/memory.limit_in_bytes", str(GIB))]


def test_turned_off_by_the_environment(v2, monkeypatch):
    monkeypatch.setenv("KIT_CGROUPS", "off")
    assert cgroups.available(root=v2.root, read_own=lambda: "0::/\n") is None
    with pytest.raises(cgroups.Unavailable):
        cgroups.Group.named("kit-kernel-1", root=v2.root, read_own=lambda: "0::/\n")


def test_no_hierarchy_is_unavailable(tmp_path):
    assert cgroups.available(root=tmp_path) is None


needs_v1 = pytest.mark.skipif(os.geteuid() != 0 or cgroups.available() != "cgroup v1",
                              reason="a writable cgroup v1 hierarchy (root on this machine)")


@needs_v1
def test_v1_for_real_a_process_past_the_cap_is_oom_killed_and_counted_one_under_it_is_not():
    group = cgroups.Group.create(f"kit-test-{os.getpid()}", memory_bytes=64 * 2**20, processes=16)
    try:
        allocate = "import sys; block = bytearray(int(sys.argv[1]) * 2**20); print('done')"
        small = subprocess.run(group.wrap([sys.executable, "-c", allocate, "16"]), capture_output=True, text=True)
        assert small.stdout.strip() == "done" and group.oom_kills() == 0
        big = subprocess.run(group.wrap([sys.executable, "-c", allocate, "256"]), capture_output=True, text=True)
        assert big.returncode == -9 and group.oom_kills() == 1
        assert 16 * 2**20 < group.peak_memory() <= 64 * 2**20
        forked = subprocess.Popen(group.wrap(["sh", "-c", "sleep 60 & sleep 60 & wait"]))
        while len(group.pids()) < 3:
            pass
    finally:
        group.remove()
    assert forked.wait() == -9
    assert not any(folder.exists() for folder in group.unique_folders)
