"""Grade one submission, sealed: the kernel runs the notebook, the judge (this process) decides.

    kernel (student's code)              judge (this process; runs no student code)
    ─────────────────────────            ───────────────────────────────────────────
    the notebook's cells, in order  ◀──  cells, with Otter's seed line
    answer(question) after the end  ◀──  "value of x_train?", "call lstm_step(...)"
    answer.json + plain .npy files  ──▶  read with caps, no pickles, no links
                                         Otter's test files on stand-ins → results.json

The same function serves `make grade` (kit/grade.py, one worker process per submission) and the
autograder zip's run_autograder (Gradescope and `otter grade`), see gradescope.py.
"""

import json
import os
import pathlib
import shutil
import time
import traceback

import nbformat
from otter.execute.preprocessor import GradingPreprocessor

from . import judge, probe, sandbox
from .exchange import Exchange
from .kernel import DeadKernelError, KernelTimeout, start_kernel
from .standins import Decoder
from .submission import SubmissionError, read_notebook

COMPLETED = "Completed"
KIT_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent  # the folder holding the kit: hidden from kernels
CALL_SECONDS = 120  # one question to the kernel: a student function called by a test
KERNEL_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "TF_CPP_MIN_LOG_LEVEL")

# Run in the kernel before the notebook: grader.check and grader.export do nothing while grading
# (the judge runs every test afterwards, outside the kernel).
PRELUDE = """\
import otter as _kit_otter
_kit_otter.Notebook.init_grading_mode("no-tests-in-the-kernel")
_kit_otter.Notebook.check = lambda self, question, global_env=None: None
_kit_otter.Notebook.check_all = lambda self: None
del _kit_otter
"""


def grade(*, upload, source, timeout=None, limits=None, hidden=()):
    """Grade upload against the unpacked autograder in source; returns results.json's dict.

    The kernel runs in a sandbox (sandbox.py) under limits; besides the hidden folders given, it
    never sees the kit's own folder, the grader's home, the upload's folder or source. Whatever
    happens, the dict has every question (0 points when grading failed), and extra_data says what
    happened (status), the sandbox reached (isolation), its peak memory and the time of each phase.
    """
    source = pathlib.Path(source)
    config = json.loads((source / "otter_config.json").read_text())
    started = time.monotonic()
    deadline = started + (timeout or 24 * 3600)
    phases, log, usage, measurements = {}, [], {}, {}
    limits = limits or sandbox.Limits()
    box = sandbox.Sandbox(limits, hidden=[*hidden, KIT_ROOT, pathlib.Path(upload).parent, source])
    try:
        with box:
            log.append(f"isolation: {box.level}")
            try:
                results = grade_in(box, upload, source, config, deadline, phases, log, measurements)
            finally:
                peak = box.peak_memory()
                usage = {"peak_memory_mb": round(peak / 2**20)} if peak else {}
                out_of_memory = box.hit_memory_limit()
        status = COMPLETED
    except SubmissionError as error:
        results, status = None, f"Grading failed: {error}"
    except DeadKernelError as error:
        results = None
        cap = f"{limits.memory_bytes / 2**20:,.0f} MB" if limits.memory_bytes else "the container's memory"
        status = (f"Grading failed: MemoryError: the notebook needed more than {cap}"
                  if out_of_memory else f"Grading failed: DeadKernelError: {error}")
    except KernelTimeout:
        results, status = None, f"Timed out after {timeout:g} s"
    except Exception as error:  # a fault of the kit's own: the submission still gets its row
        traceback.print_exc()
        results, status = None, f"Grading failed: {type(error).__name__}: {error}"
    phases["total"] = time.monotonic() - started
    report = failed_report(source, status) if results is None else judge.gradescope_results(results, source)
    report["extra_data"] = {"status": status, "isolation": box.level, "limits": box.enforced_limits(), **usage,
                            "phases": {name: round(seconds, 3) for name, seconds in phases.items()},
                            "test_cases": [] if results is None else judge.test_case_records(results),
                            "measurements": measurements}
    print("\n".join([f"grading status: {status}", *log]), flush=True)  # the grading log, for instructors only
    return report


def grade_in(box, upload, source, config, deadline, phases, log, measurements):
    """Run the notebook in a kernel inside box, then the tests in this process; Otter's GradingResults."""
    notebook = read_notebook(upload, config["assignment_name"])
    prepare_workspace(box, source, notebook, config["assignment_name"])
    kernel = timed(phases, "kernel start", lambda: start_kernel(box, kernel_environment(box.workspace), deadline))
    try:
        timed(phases, "prelude", lambda: kernel.run(PRELUDE, deadline))
        cells = notebook_cells(notebook, config)
        run_notebook(kernel, cells, deadline, phases, log)
        timed(phases, "probe", lambda: kernel.run(probe_loader(), deadline, store_history=False))
        outbox = box.workspace / ".judge"
        outbox.mkdir()
        exchange = Exchange(kernel, outbox, CALL_SECONDS)
        return timed(phases, "judge", lambda: judge.run_tests(source, Decoder(exchange), measurements, cells))
    finally:
        kernel.close()


def timed(phases, name, action):
    begun = time.monotonic()
    try:
        return action()
    finally:
        phases[name] = phases.get(name, 0) + time.monotonic() - begun


def prepare_workspace(box, source, notebook, assignment):
    """The kernel's folder: the notebook and the autograder's own support files (data/, images/), nothing else."""
    files = source / "files"
    if files.is_dir():
        shutil.copytree(files, box.workspace, dirs_exist_ok=True)
    nbformat.write(notebook, box.workspace / f"{assignment}.ipynb")  # otter.Notebook(...) in the first cell reads it
    box.give(box.workspace)


def kernel_environment(workspace):
    """Only what a kernel needs: no variable of the grader's (tokens, paths) reaches student code."""
    environment = {name: os.environ[name] for name in KERNEL_ENVIRONMENT if name in os.environ}
    home = str(workspace)
    environment.update(HOME=home, MPLBACKEND="Agg", MPLCONFIGDIR=f"{home}/.config/matplotlib",
                       IPYTHONDIR=f"{home}/.ipython", JUPYTER_CONFIG_DIR=f"{home}/.jupyter",
                       JUPYTER_DATA_DIR=f"{home}/.local/share/jupyter", PYTHONNOUSERSITE="1",
                       TF_CPP_MIN_LOG_LEVEL=environment.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    return environment


def notebook_cells(notebook, config):
    """The code cells Otter would run: cells tagged otter_ignore dropped, the seed line put before each."""
    preprocessor = GradingPreprocessor(seed=config.get("seed"), seed_variable=config.get("seed_variable"))
    preprocessor.filter_ignored_cells(notebook)
    preprocessor.add_seeds(notebook)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def run_notebook(kernel, cells, deadline, phases, log):
    """Run the cells in order; the log names the error of a failing cell, never its text (student-controlled)."""
    for number, source in enumerate(cells, start=1):
        ok, error_name = timed(phases, f"cell {number}", lambda: kernel.run(source, deadline))
        if not ok:
            log.append(f"cell {number} raised {error_name}")


def probe_loader():
    """Code that makes the probe's functions available in the kernel as `_kit_probe`."""
    source = pathlib.Path(probe.__file__).read_text()
    return ("import types as _kit_types\n_kit_probe = _kit_types.ModuleType('_kit_probe')\n"
            f"exec({source!r}, _kit_probe.__dict__)\ndel _kit_types")


def failed_report(source, status):
    """results.json for a submission that could not be graded: every question at 0, the reason visible."""
    tests = [{"name": name, "score": 0, "max_score": possible, "visibility": "visible", "output": status}
             for name, possible in judge.points_per_question(source).items()]
    return {"score": 0, "output": status, "tests": tests}


def write_results(report, results_dir):
    results_dir = pathlib.Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").write_text(json.dumps(report, indent=2))
