"""Prove that each autograder.zip's Python requirements resolve for the grading image, with pip's own resolver.

Otter's setup.sh builds a conda environment from the zip's environment.yml (Python and a pip
section). This script asks pip to download that pip section as binary wheels for the image's
Python version and platform (Gradescope's image is Ubuntu 22.04 on x86_64, glibc 2.35), into a
temporary folder, and reports what it chose.

    .venv/bin/python -m scripts.check_autograder_env [--glibc 2.35] [--arch x86_64]
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

import yaml

from kit.layout import ROOT, Layout


def zip_environment(autograder):
    """(python version, pip requirement lines) from the environment.yml inside an autograder zip."""
    with zipfile.ZipFile(autograder) as archive:
        environment = yaml.safe_load(archive.read("environment.yml"))
    python = next(dep.split("=", 1)[1] for dep in environment["dependencies"] if isinstance(dep, str) and dep.startswith("python="))
    pip_section = next(dep["pip"] for dep in environment["dependencies"] if isinstance(dep, dict))
    return python, pip_section


def platform_tags(glibc, arch):
    """Every manylinux tag a machine with this glibc accepts; pip download does not expand one tag itself."""
    major, minor = (int(part) for part in glibc.split("."))
    tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)]
    return tags + [f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


def resolve(python, requirements, platforms):
    """Run pip download for the target; returns (ok, chosen distributions or pip's error)."""
    with tempfile.TemporaryDirectory() as scratch:
        requirements_file = pathlib.Path(scratch) / "requirements.txt"
        requirements_file.write_text("\n".join(requirements) + "\n")
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--python-version", python,
                   *(option for tag in platforms for option in ("--platform", tag)), "--dest", str(pathlib.Path(scratch) / "wheels"), "-r", str(requirements_file)]
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            return False, completed.stderr.strip().splitlines()[-5:]
        wheels = sorted(path.name for path in (pathlib.Path(scratch) / "wheels").iterdir())
    return True, wheels


def main(*, glibc, arch):
    platforms = platform_tags(glibc, arch)
    failures = 0
    layout = Layout()
    for autograder in map(layout.autograder_zip, layout.assignment_names()):
        python, requirements = zip_environment(autograder)
        ok, detail = resolve(python, requirements, platforms)
        verdict = "resolves" if ok else "DOES NOT RESOLVE"
        print(f"{autograder.relative_to(ROOT)}: Python {python}, glibc {glibc} {arch}: {verdict}")
        pinned = [name for name in detail if re.match(r"(tensorflow_cpu|otter_grader|keras|numpy)-", name)] if ok else detail
        for line in pinned:
            print(f"    {line}")
        if ok:
            print(f"    ({len(detail)} wheels in all)")
        failures += not ok
    return failures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--glibc", default="2.35", help="the grading image's glibc (Ubuntu 22.04: 2.35)")
    parser.add_argument("--arch", default="x86_64")
    arguments = parser.parse_args()
    sys.exit(main(glibc=arguments.glibc, arch=arguments.arch))
