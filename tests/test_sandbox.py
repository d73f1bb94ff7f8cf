"""make grade against hostile students: one submission cannot reach the grader, the machine or another submission.

A batch of lstm_parameters submissions (two honest solutions as victims, and the attacks of
tests/hostile/ plus a traversal-and-bomb zip) is graded once, as `python -m kit grade` with a
memory cap; then every row must be there, the victims at full marks, nothing left running or
lying around, and nothing of the grader's in any output.
"""

import contextlib
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time
import zipfile

import mistune
import pandas as pd
import pytest

from kit import catalogue
from kit.batch import grade, names
from kit.batch.table import points_per_question
from kit.settings import Settings
from kit.grading import kernel_users, sandbox, shared_places
from kit.layout import ROOT, Layout
from kit.grading.status import Completed
from tests.leftovers import decoy_tree, ipc_objects_left, plant_decoy, posix_queue_left

ASSIGNMENT = "lstm_parameters"
HOSTILE = ROOT / "tests" / "hostile"
SECRET = "KIT_TEST_SECRET_VALUE_8c1f"
DAEMON_SECONDS = 4 + 8  # the daemon case waits 4 s before it starts overwriting; leave it time
root_only = pytest.mark.skipif(os.geteuid() != 0 or not sandbox.namespaces_work(),
                               reason="the strongest sandbox needs root and namespaces (CI has both)")


def traversal_and_bomb_zip(path):
    """An export zip whose other entries climb out of the folder and unpack to 1 GiB of zeros."""
    solution = Layout().solution_notebook(ASSIGNMENT).read_text()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{ASSIGNMENT}.ipynb", solution)
        archive.writestr("../../../../tmp/kit-hostile-traversal", "climbed out")
        with archive.open("bomb.bin", "w", force_zip64=True) as bomb:
            for _ in range(1024):
                bomb.write(b"\0" * 2**20)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    cases = {**catalogue.load_cases(HOSTILE),
             "victim_one": {"description": "an honest solution"}, "victim_two": {"description": "another"}}
    catalogue.main(assignment=ASSIGNMENT, cases=cases, out=folder / "in")
    traversal_and_bomb_zip(folder / "in" / "traversal_and_bomb.zip")
    plant_decoy()
    out = folder / "out"
    command = [sys.executable, "-m", "kit", "grade", "--assignment", ASSIGNMENT, "--submissions", str(folder / "in"),
               "--out", str(out), "--memory", "1G", "--timeout", "180", "--jobs", "2"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "KIT_SECRET": SECRET})
    grades = (out / "final_grades.csv").read_text()
    time.sleep(DAEMON_SECONDS)  # anything the batch left running has had its chance to act
    return cases, completed, out, grades


def row_names(cases, folder):
    """{case name: its row's file name}: the name the batch shows for the case's file."""
    files = sorted(path.name for path in folder.iterdir())
    shown = dict(zip(files, names.visible_names([pathlib.Path(name) for name in files])))
    return {name: shown[case.get("file", f"{name}.ipynb")] for name, case in cases.items()}


@pytest.mark.slow
@root_only
def test_every_row_is_there_and_the_batch_exits_cleanly(batch):
    cases, completed, out, grades = batch
    assert completed.returncode == 0, completed.stderr[-2000:]
    rows = set(pd.read_csv(out / "final_grades.csv")["file"][1:])  # the first row holds the points possible
    assert rows == set(row_names(cases, out.parent / "in").values()) | {"traversal_and_bomb.zip"}


@pytest.mark.slow
@root_only
def test_each_attack_earns_what_its_notebook_earns_and_victims_are_untouched(batch):
    cases, _, out, _ = batch
    table = pd.read_csv(out / "final_grades.csv").set_index("file").to_dict(orient="index")
    possible = points_per_question(Layout().autograder_zip(ASSIGNMENT))
    for name, row_name in row_names(cases, out.parent / "in").items():
        case, row = cases[name], table[row_name]
        status = case.get("expected", {}).get("status", Completed().text)
        assert row["grading_status"].startswith(status), (name, row["grading_status"])
        expected = catalogue.expected_scores(case, possible)
        assert {q: row[q] for q in possible} == pytest.approx(expected), name
    assert table["traversal_and_bomb.zip"]["percent_correct"] == 1


@pytest.mark.slow
@root_only
def test_nothing_outlives_the_batch(batch):
    _, _, out, grades = batch
    assert (out / "final_grades.csv").read_text() == grades, "a daemon rewrote final_grades.csv"
    for uid in kernel_users.KERNEL_UIDS:
        assert not kernel_users.processes_of(uid), f"processes of kernel user {uid} outlived the batch"
    assert not list(kernel_users.STATE.glob("workspace-*")), "a kernel workspace was left behind"
    for leftover in ("/tmp/kit-hostile-leftover", "/var/tmp/kit-hostile-leftover", "/dev/shm/kit-hostile-leftover",
                     "/tmp/kit-hostile-traversal"):
        assert not pathlib.Path(leftover).exists(), leftover
    for folder in shared_places.world_writable_folders():
        assert not list(pathlib.Path(folder).glob("kit-hostile-leftover-*")), f"a kernel's file stayed in {folder}"
    assert not ipc_objects_left(), "a kernel's System V object stayed on the host"
    assert not posix_queue_left("/kit-hostile-queue"), "a kernel's POSIX message queue stayed on the host"


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="kernel user ids and capsh need root")
def test_without_namespaces_what_the_kernels_user_id_left_is_removed(tmp_path):
    """As root without CAP_SYS_ADMIN (a container's privileges, SANDBOX=weak) no namespace holds /run/lock
    or IPC: the sweep must. /dev/mqueue is mounted for the test, as Docker mounts it in containers."""
    cases = {name: catalogue.load_cases(HOSTILE)[name] for name in ("fills_run_lock", "leaves_ipc_objects")}
    catalogue.main(assignment=ASSIGNMENT, cases=cases, out=tmp_path / "in")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kit", "grade", "--assignment", ASSIGNMENT, "--submissions", str(tmp_path / "in"),
               "--out", str(out), "--memory", "1G", "--timeout", "180", "--jobs", "1", "--sandbox", "weak"]
    with message_queues_mounted():
        completed = subprocess.run(["capsh", "--drop=cap_sys_admin", "--", "-c", shlex.join(command)], cwd=ROOT,
                                   capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr[-2000:]
        assert not posix_queue_left("/kit-hostile-queue"), "a kernel's POSIX message queue stayed on the host"
    for name in cases:
        extra = json.loads((out / "results" / f"{name}.ipynb" / "results.json").read_text())["extra_data"]
        assert "no namespaces" in extra["isolation"] and extra["status"] == Completed().text
    for folder in shared_places.world_writable_folders():
        assert not list(pathlib.Path(folder).glob("kit-hostile-leftover-*")), f"a kernel's file stayed in {folder}"
    assert not ipc_objects_left(), "a kernel's System V object stayed on the host"


@contextlib.contextmanager
def message_queues_mounted():
    queues = pathlib.Path("/dev/mqueue")
    if queues.is_mount():
        yield
        return
    queues.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "mqueue", "mqueue", str(queues)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(queues)], check=True)


@pytest.mark.slow
@root_only
def test_the_judge_never_follows_the_kernels_links(batch):
    """The judge's folder swapped for a link to a grader-side folder: nothing made there, nothing removed."""
    cases, _, out, _ = batch
    assert decoy_tree() == [("q5", 0), ("q5/secret", 0), ("q5/sub", 0)]
    swapped = json.loads((out / "results" / "swaps_the_judge_folder.ipynb" / "results.json").read_text())
    assert swapped["extra_data"]["status"] == Completed().text


@pytest.mark.slow
@root_only
def test_markdown_in_a_submission_stays_text_in_its_feedback(batch):
    _, _, out, _ = batch
    rendered = mistune.html((out / "feedback" / "markdown_in_the_assignment_name.ipynb.md").read_text())
    assert "Points: 10 of 10" in rendered
    for markup in ("<h1>Points", "<pre>", "<h1>a heading"):
        assert markup not in rendered
    assert not list(pathlib.Path("/tmp").glob("kit-autograder-*")), "an unpacked autograder was left in /tmp"


@pytest.mark.slow
@root_only
def test_nothing_of_the_grader_reaches_any_output(batch):
    _, _, out, _ = batch
    texts = {path: path.read_text(errors="replace") for path in out.rglob("*") if path.is_file()}
    assert sum(path.stat().st_size for path in texts) < 2 * 2**20, "the 50 MB flood was kept somewhere"
    for path, text in texts.items():
        assert SECRET not in text and "BEGIN SOLUTION" not in text and "kit.batch.worker" not in text, path
    secrets_row = json.loads((out / "results" / "reads_secrets.ipynb" / "results.json").read_text())
    assert "found nothing" in json.dumps(secrets_row), "the hunt for secrets found something"


def test_the_batch_records_only_the_limits_its_sandboxes_enforced():
    requested = Settings(timeout=600, memory="1G")
    assert grade.enforced_settings(requested, []) == {"timeout": 600, "limits": []}  # nothing graded, nothing enforced
    by_cgroup = {"memory": {"bytes": 2**30, "by": "cgroup v2"}, "cpus": {"value": 1.0, "by": "cgroup v2"}}
    by_watchdog = {"memory": {"bytes": 2**30, "by": "watchdog"}}
    results = [{"extra_data": {"limits": by_cgroup}}, {"extra_data": {"limits": by_cgroup}}]
    assert grade.enforced_settings(requested, results) == {"timeout": 600, "memory": "1G", "cpus": 1.0,
                                                           "limits": [by_cgroup]}
    mixed = grade.enforced_settings(requested, [*results, {"extra_data": {"limits": by_watchdog}}])
    assert "cpus" not in mixed and mixed["limits"] == [by_cgroup, by_watchdog]


@pytest.mark.slow
@root_only
def test_without_root_the_kernel_gets_a_user_namespace():
    """The same grading run by an ordinary user: namespaces through a user namespace, full marks."""
    with tempfile.TemporaryDirectory() as folder:  # pytest's own folders are closed to other users
        os.chmod(folder, 0o755)
        grade_as_an_ordinary_user(pathlib.Path(folder))


def grade_as_an_ordinary_user(tmp_path):
    user = str(kernel_users.KERNEL_UIDS[-1])
    for folder in ("home", "out"):
        (tmp_path / folder).mkdir()
        os.chown(tmp_path / folder, int(user), int(user))
    submission = tmp_path / f"{ASSIGNMENT}.ipynb"
    submission.write_text(Layout().solution_notebook(ASSIGNMENT).read_text())
    sandbox.open_python_to_others()
    command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "env", f"HOME={tmp_path / 'home'}",
               sys.executable, "-m", "kit.batch.worker", str(submission), str(Layout().autograder_zip(ASSIGNMENT)),
               str(tmp_path / "out"), "--timeout=180"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    assert report["extra_data"]["status"] == Completed().text
    assert report["extra_data"]["isolation"].startswith("grader's own user, namespaces (mount, pid, net, ipc)")
    assert all(test["score"] == test["max_score"] for test in report["tests"] if "max_score" in test)


@pytest.mark.slow
def test_without_cgroups_the_watchdog_grades_the_memory_hog_out_of_memory(tmp_path):
    """KIT_CGROUPS=off, as on a host where no cgroup is writable: the watchdog holds the cap, and says so."""
    cases = {"memory_hog": catalogue.load_cases(HOSTILE)["memory_hog"]}
    catalogue.main(assignment=ASSIGNMENT, cases=cases, out=tmp_path / "in")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kit", "grade", "--assignment", ASSIGNMENT, "--submissions", str(tmp_path / "in"),
               "--out", str(out), "--memory", "1G", "--timeout", "180", "--jobs", "1"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "KIT_CGROUPS": "off"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    extra = json.loads((out / "results" / "memory_hog.ipynb" / "results.json").read_text())["extra_data"]
    assert extra["status"].startswith(cases["memory_hog"]["expected"]["status"]), extra["status"]
    assert extra["limits"]["memory"] == {"bytes": 2**30, "by": "watchdog"}
    assert extra["isolation"].endswith("memory by watchdog") and extra["peak_memory_mb"] > 1024
