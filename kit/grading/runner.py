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
import resource
import shutil
import time
import traceback

import nbformat
from otter.execute.preprocessor import GradingPreprocessor

from . import judge, probe, sandbox, status
from .exchange import Exchange, Outbox
from .kernel import DeadKernelError, KernelStartError, KernelTimeout, start_kernel
from .standins.decode import Decoder
from .standins.layers import kernel_reads
from .submission import SubmissionError, read_notebook

KIT_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent  # the folder holding the kit: hidden from kernels
CALL_SECONDS = 120  # one question to the kernel (a student function called by a test), within the budget
DEFAULT_TIMEOUT = 600  # TIMEOUT when none is given, on every path: Gradescope's default too
NO_TIMEOUT_SECONDS = 24 * 3600  # the budget when grade() is called without one
# The judge's own memory: grading the solution that trains an MNIST model (the heaviest judge), its data
# segment peaked at 318 MB (223 MB resident); the caps on what it reads (exchange.py) keep an honest answer far under this.
JUDGE_MEMORY_BYTES = 2 * 2**30
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
    never sees the kit's own folder, the grader's home, the upload's folder or source. timeout is
    the one budget for everything: the kernel's start, the cells, every question to the kernel.
    Whatever happens, the dict has every question (0 points unless the grading completed), and
    extra_data says what happened (status: the sentence; outcome: the status as data, see
    status.py), the sandbox reached (isolation), peak memory and the time of each phase.
    """
    source = pathlib.Path(source)
    config = json.loads((source / "otter_config.json").read_text())
    started = time.monotonic()
    deadline = started + (timeout or NO_TIMEOUT_SECONDS)
    phases, log, usage, measurements = {}, [], {}, {}
    limits = limits or sandbox.Limits()
    box = sandbox.Sandbox(limits, hidden=[*hidden, KIT_ROOT, pathlib.Path(upload).parent, source])
    try:
        with box:
            log.append(f"isolation: {box.level}")
            try:
                results = grade_in(box, upload, source, config, deadline, phases, log, measurements, usage)
            finally:
                peak = box.peak_memory()
                usage.update({"peak_memory_mb": round(peak / 2**20)} if peak else {})
                out_of_memory = box.hit_memory_limit()
        outcome = status.Completed()
    except SubmissionError as error:
        results, outcome = None, status.StudentFailure(error.error, error.detail)
    except KernelStartError as error:
        results, outcome = None, status.NotGraded(str(error))
    except DeadKernelError as error:
        results = None
        cap = f"{limits.memory_bytes / 2**20:,.0f} MB" if limits.memory_bytes else "the container's memory"
        outcome = (status.StudentFailure("MemoryError", f"the notebook needed more than {cap}") if out_of_memory
                   else status.StudentFailure("DeadKernelError", str(error)))
    except KernelTimeout:
        results, outcome = None, status.TimedOut(timeout or NO_TIMEOUT_SECONDS)
    except Exception as error:  # a fault of the kit's own: not the student's grade
        traceback.print_exc()
        results, outcome = None, status.NotGraded(f"{type(error).__name__}: {error}")
    phases["total"] = time.monotonic() - started
    report = (failed_report_for(judge.points_per_question(source), outcome) if results is None
              else judge.gradescope_results(results, source))
    report["extra_data"] = {"status": outcome.text, "outcome": status.to_json(outcome), "isolation": box.level,
                            "limits": box.enforced_limits(), **usage, "judge_peak_memory_mb": round(judge_peak_memory() / 2**20),
                            "phases": {name: round(seconds, 3) for name, seconds in phases.items()},
                            "test_cases": [] if results is None else judge.test_case_records(results),
                            "measurements": measurements}
    print("\n".join([f"grading status: {outcome.text}", *log]), flush=True)  # the grading log, for instructors only
    return report


def judge_peak_memory():
    """This process' peak resident memory in bytes: the judge's (the kernel is another process)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def grade_in(box, upload, source, config, deadline, phases, log, measurements, usage):
    """Run the notebook in a kernel inside box, then the tests in this process; Otter's GradingResults.

    usage gains judge_read_mb: what the judge read of the kernel's answers."""
    notebook = read_notebook(upload, config["assignment_name"])
    prepare_workspace(box, source, notebook, config["assignment_name"])
    with Outbox(box.workspace / ".judge", box.kernel_owner) as outbox:  # opened before any student code runs
        kernel = timed(phases, "kernel start", lambda: start_kernel(box, kernel_environment(box.workspace), deadline, log))
        try:
            try:
                timed(phases, "prelude", lambda: kernel.run(PRELUDE, deadline))
            except DeadKernelError as error:  # no student code has run yet
                raise KernelStartError(f"the kernel died before the notebook ran ({error})") from None
            cells = notebook_cells(notebook, config)
            run_notebook(kernel, cells, deadline, phases, log)
            timed(phases, "probe", lambda: kernel.run(probe_loader(), deadline, store_history=False))
            exchange = Exchange(kernel, outbox, CALL_SECONDS, deadline)
            try:
                results = timed(phases, "judge", lambda: judge.run_tests(source, Decoder(exchange), measurements, cells))
            finally:
                usage["judge_read_mb"] = round(exchange.bytes_read / 2**20, 1)
            if time.monotonic() > deadline:  # the judge's share of the budget counts too
                raise KernelTimeout("the tests ran past the time limit")
            return results
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
    """Code that makes the probe's functions available in the kernel as `_kit_probe`, with what the
    judge's table of layers reads of each layer."""
    source = pathlib.Path(probe.__file__).read_text()
    return ("import types as _kit_types\n_kit_probe = _kit_types.ModuleType('_kit_probe')\n"
            f"exec({source!r}, _kit_probe.__dict__)\n_kit_probe.LAYER_READS = {kernel_reads()!r}\ndel _kit_types")


def failed_report_for(points, outcome):
    """results.json for a grading that did not complete: every question at 0, the reason visible."""
    tests = [{"name": name, "score": 0, "max_score": possible, "visibility": "visible", "output": outcome.text}
             for name, possible in points.items()]
    return {"score": 0, "output": outcome.text, "tests": tests,
            "extra_data": {"status": outcome.text, "outcome": status.to_json(outcome)}}


def write_results(report, results_dir):
    """results.json, whole or not at all: written beside it, then renamed over it."""
    results_dir = pathlib.Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    partial = results_dir / "results.json.partial"
    partial.write_text(json.dumps(report, indent=2))
    partial.replace(results_dir / "results.json")


def limit_judge_memory():
    """Bound this process (the judge) by its data segment, where every allocation lands, so that no answer
    can make it take the machine's memory; the kernel it starts gets the limit lifted (jail.die_with_parent)."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard == resource.RLIM_INFINITY or hard > JUDGE_MEMORY_BYTES:
        resource.setrlimit(resource.RLIMIT_DATA, (JUDGE_MEMORY_BYTES, hard))
