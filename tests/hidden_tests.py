"""The hidden test cases inside an autograder zip, read as code: for the tests that prove none reaches a student."""

import ast
import zipfile

from kit.layout import Layout

LAYOUT = Layout()


def hidden_test_cases(name):
    """(test file source, function node) of every hidden test case in an assignment's autograder zip."""
    with zipfile.ZipFile(LAYOUT.autograder_zip(name)) as archive:
        for entry in archive.namelist():
            if entry.startswith("tests/") and entry.endswith(".py"):
                source = archive.read(entry).decode()
                for node in ast.parse(source).body:
                    if isinstance(node, ast.FunctionDef) and is_hidden(node):
                        yield source, node


def hidden_test_functions(name):
    """(function name, last statement) of every hidden test case."""
    return [(node.name, ast.unparse(node.body[-1])) for _, node in hidden_test_cases(name)]


def hidden_test_lines(name):
    """Every distinctive line of the hidden test cases' code (not their messages, which are meant to be
    shown): none may appear in any grading output."""
    lines = set()
    for source, node in hidden_test_cases(name):
        body = ast.get_source_segment(source, node)
        lines |= {line.strip() for line in body.splitlines()[1:] if len(line.strip()) >= 20
                  and not line.strip().startswith(("import ", "from ", '"', "f\"", "'"))}
    return sorted(lines)


def is_hidden(function):
    return any(keyword.arg == "hidden" and getattr(keyword.value, "value", False)
               for decorator in function.decorator_list if isinstance(decorator, ast.Call)
               for keyword in decorator.keywords)
