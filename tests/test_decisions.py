"""One place for each decision: statuses, settings, assignment profiles and the catalogue's schema (fast)."""

import argparse
import ast
import dataclasses
import pathlib
import subprocess
import sys

import nbformat
import pytest
import yaml

from kit import assignments, catalogue, outfolder, settings
from kit.batch.table import grades_table, points_per_question
from kit.grading import runner, status
from kit.layout import ROOT, Layout, config_cell

LAYOUT = Layout()
EXAMPLES = [status.Completed(), status.TimedOut(600), status.StudentFailure("MemoryError", "needed more than 1 GiB"),
            status.NotGraded("the kernel did not start")]


def statuses_written_in(folder):
    """The name of every status type that code under folder constructs (status.X(...))."""
    names = set()
    for path in pathlib.Path(folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "status"):
                names.add(node.func.attr)
    return names - {"from_json", "to_json", "is_grade"}


def test_every_status_the_kit_writes_is_a_type_of_status_py():
    written = statuses_written_in(ROOT / "kit")
    assert written and written <= {kind.__name__ for kind in status.STATUSES.values()}, written
    assert {type(example).__name__ for example in EXAMPLES} == {kind.__name__ for kind in status.STATUSES.values()}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.kind)
def test_every_status_reads_back_through_the_out_folder_as_written(tmp_path, example):
    """Written as make grade writes it (results.json and final_grades.csv), read back as the report reads it."""
    points = points_per_question(LAYOUT.autograder_zip("lstm_parameters"))
    results = runner.failed_report_for(points, example)  # the same record whatever the status
    assert status.from_json(results["extra_data"]["outcome"]) == example
    runner.write_results(results, tmp_path / "results" / "row.ipynb")
    grades_table(points, [("row.ipynb", results)]).to_csv(tmp_path / outfolder.FINAL_GRADES_CSV, index=False)
    (submission,) = outfolder.read(tmp_path).submissions
    assert submission.kind == example.kind and submission.status == example.text
    assert submission.graded == status.is_grade(example)
    assert submission.outcome == outfolder.OUTCOME_OF_KIND[example.kind]


def test_a_status_this_kit_does_not_write_is_refused():
    for data in ({"kind": "passed"}, {"kind": "timed_out", "seconds": "600"}, {"kind": "not_graded"}, "Completed"):
        with pytest.raises(ValueError):
            status.from_json(data)


def test_each_assignment_has_a_profile_in_its_master_notebook():
    for name in LAYOUT.assignment_names():
        profile = assignments.profile(name)
        assert profile.name == name
        cases = catalogue.load_cases(LAYOUT.catalogue(name))
        assert set(profile.preflight) <= set(cases), "make preflight would grade a case the catalogue lacks"


@pytest.mark.parametrize("block, complaint", [
    (None, "needs a `kit:` block"),
    ({"preflight": ["solution"]}, "memory is missing"),
    ({"memory": "lots", "preflight": ["solution"]}, "is not a size"),
    ({"memory": "1G", "preflight": "solution"}, "preflight should be a list"),
    ({"memory": "1G", "preflight": [], "memroy": "2G"}, "unknown key 'memroy'"),
])
def test_a_profile_that_cannot_serve_says_what_to_fix(block, complaint):
    with pytest.raises(assignments.ProfileError, match=complaint):
        assignments.read_block("solutions/new.ipynb", "new", block)


def test_settings_have_one_default_each_and_reach_the_command_line_as_declared():
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser)
    assert settings.from_arguments(parser.parse_args([])) == settings.Settings()
    chosen = settings.from_arguments(parser.parse_args(["--timeout", "90", "--memory", "768M", "--jobs", "4",
                                                        "--sandbox", "weak", "--student-pattern", "(?P<id>\\d+)"]))
    assert chosen == settings.Settings(timeout=90, memory="768M", jobs=4, sandbox="weak",
                                       student_pattern="(?P<id>\\d+)")
    helps = {action.dest: action.help for action in parser._actions if action.dest != "help"}
    assert set(helps) == {field.name for field in dataclasses.fields(settings.Settings)} and all(helps.values())


@pytest.mark.parametrize("wrong", [{"sandbox": "none"}, {"memory": "a lot"}, {"jobs": 0}])
def test_settings_that_cannot_serve_fail_before_grading(wrong):
    with pytest.raises(ValueError):
        settings.Settings(**wrong)


def test_a_profile_memory_fills_only_an_unset_memory():
    assert settings.Settings().with_memory_default("2G").memory == "2G"
    assert settings.Settings(memory="768M").with_memory_default("2G").memory == "768M"


@pytest.mark.parametrize("text, complaint", [
    ("- a list\n", "a mapping"),
    ("description: x\nexpectd: {q1: 0}\n", "unknown key 'expectd'"),
    ("cells: []\n", "description is missing"),
    ("description: x\nbase: teacher\n", "base should be one of"),
    ("description: x\ncells: [{find: train}]\n", "edit 1 needs find and source"),
    ("description: x\ndemo: yes please\n", "demo should be bool"),
])
def test_a_catalogue_case_that_breaks_the_schema_names_its_file(tmp_path, text, complaint):
    (tmp_path / "broken.yaml").write_text(text)
    with pytest.raises(catalogue.CaseError, match=complaint) as raised:
        catalogue.load_cases(tmp_path)
    assert "broken.yaml" in str(raised.value)


def test_otter_assign_gets_the_config_without_the_kit_block():
    for name in LAYOUT.assignment_names():
        source = config_cell(nbformat.read(LAYOUT.master(name), as_version=4), name).source
        stripped = assignments.without_kit_block(source)
        config = yaml.safe_load(stripped)
        assert {key: value for key, value in yaml.safe_load(source).items() if key != "kit"} == config
        assert "kit:" not in stripped and stripped.count("\n") < source.count("\n")


def test_the_report_needs_neither_otter_nor_the_runner():
    """make report reads a graded folder as data: importing it loads no grading engine (once 3 s of Otter)."""
    loaded = subprocess.run([sys.executable, "-c", "import sys, kit.report; "
                             "print(sorted(name for name in sys.modules if name.split('.')[0] == 'otter' "
                             "or name == 'kit.grading.runner'))"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
