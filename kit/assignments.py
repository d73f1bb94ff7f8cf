"""Each assignment's own decisions, in one place: the `kit:` block of its master notebook's ASSIGNMENT CONFIG.

The notebook that defines the questions also says how the kit grades them; make build strips the block
from the copy it gives otter assign, which refuses keys it does not know (without_kit_block). Nothing
else in kit/ names an assignment.
"""

import dataclasses
import re

import yaml

from .grading.sandbox import parse_size
from .layout import Layout, assignment_config


@dataclasses.dataclass(frozen=True)
class Profile:
    """What the kit needs to know of one assignment beyond its questions and tests."""

    name: str
    memory: str  # make grade's memory cap per submission when MEMORY is not given
    preflight: tuple[str, ...]  # catalogue cases that make preflight grades through the zip
    measures_accuracy: bool = False  # the report gives the model's test accuracy a section of its own


KEYS = {"memory": str, "preflight": list, "measures_accuracy": bool}
REQUIRED = {"memory", "preflight"}


class ProfileError(ValueError):
    """A master notebook whose `kit:` block is missing or malformed; the message names the notebook and the fix."""


def profile(name, root=None):
    """The Profile of assignment `name`, read from solutions/<name>.ipynb."""
    layout = Layout(root)
    if name not in layout.assignment_names():
        raise ValueError(f"no assignment {name!r}: choose one of {', '.join(layout.assignment_names())}")
    master = layout.master(name)
    return read_block(master.relative_to(layout.root), name, assignment_config(master).get("kit"))


def read_block(where, name, block):
    if not isinstance(block, dict):
        raise ProfileError(f"{where}: its ASSIGNMENT CONFIG needs a `kit:` block with {', '.join(sorted(REQUIRED))} "
                           "(see the README's 'Adding an assignment')")
    problems = [*(f"unknown key {key!r}" for key in sorted(set(block) - set(KEYS))),
                *(f"{key} is missing" for key in sorted(REQUIRED - set(block))),
                *(f"{key} should be a {kind.__name__}" for key, kind in KEYS.items()
                  if key in block and not isinstance(block[key], kind))]
    if problems:
        raise ProfileError(f"{where}: kit: block: {'; '.join(problems)}")
    try:
        parse_size(block["memory"])
    except ValueError:
        raise ProfileError(f"{where}: kit: memory: {block['memory']!r} is not a size such as 768M or 1.5G") from None
    return Profile(name=name, memory=block["memory"], preflight=tuple(map(str, block["preflight"])),
                   measures_accuracy=block.get("measures_accuracy", False))


def without_kit_block(config_source):
    """An ASSIGNMENT CONFIG cell's text without its `kit:` block (the key's line and the indented or
    blank lines under it), for otter assign; the other keys and their comments are kept as written."""
    lines = config_source.splitlines(keepends=True)
    start = next((number for number, line in enumerate(lines) if re.match(r"kit\s*:", line)), None)
    if start is None:
        return config_source
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    stripped = "".join(lines[:start] + lines[end:])
    expected = {key: value for key, value in (yaml.safe_load(config_source) or {}).items() if key != "kit"}
    if (yaml.safe_load(stripped) or {}) != expected:
        raise ProfileError("the kit: block could not be told apart from the rest of the ASSIGNMENT CONFIG")
    return stripped
