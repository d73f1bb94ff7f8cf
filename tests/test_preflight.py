"""make preflight: the zip's entry point under container limits says pass or fail, and why."""

import os

import pytest

from kit import preflight
from kit.grading import cgroups

needs_cgroups = pytest.mark.skipif(os.geteuid() != 0 or not cgroups.available(),
                                   reason="limits are enforced through a writable cgroup hierarchy (v1 or v2), as root")


@pytest.mark.slow
@needs_cgroups
def test_a_container_that_fits_passes_and_one_that_does_not_says_out_of_memory():
    fits = preflight.main(assignment="lstm_parameters", memory="1G", cpus=1)
    assert [row["passed"] for row in fits] == [True, True], fits
    assert all(100 < row["peak_mb"] < 1024 for row in fits), fits
    starved = preflight.main(assignment="lstm_parameters", memory="256M", cpus=1)
    assert not any(row["passed"] for row in starved)
    assert all("out of memory" in row["result"] for row in starved), starved
