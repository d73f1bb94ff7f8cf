"""Which files in SUBMISSIONS are submissions, and the one visible name each is shown by everywhere."""

import re
import unicodedata

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
HIDDEN_CHARACTERS = {"Cc", "Cf", "Zl", "Zp"}  # Unicode's control, format and line/paragraph separators
# Unicode's Default_Ignorable_Code_Point: drawn as nothing (a combining grapheme joiner, variation selectors,
# Hangul fillers), so a name holding one looks exactly like the name without it
INVISIBLE_CHARACTERS = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                                  "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
                                  "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def submission_paths(folder):
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of submissions")
    return sorted(path for path in folder.iterdir() if path.is_file() and path.suffix in SUBMISSION_SUFFIXES)


def visible_name(name):
    """A file name as its row, results folder, feedback and report show it: control, format, line-breaking
    and invisible (default-ignorable) characters written out as [U+000D], so that no name can end a CSV line,
    pass for another student's name (a carriage return before "honest.ipynb", "honest\u034f.ipynb") or
    turn the text around it (U+202E)."""
    return "".join(f"[U+{ord(character):04X}]" if is_hidden(character) else character for character in name)


def is_hidden(character):
    return unicodedata.category(character) in HIDDEN_CHARACTERS or INVISIBLE_CHARACTERS.fullmatch(character)


def visible_names(paths):
    """Each submission's visible name, one per submission: a name that an earlier one already shows
    ("col\u200b.ipynb" and a file named "col[U+200B].ipynb") gets "~2", "~3", ... (never a submission's
    own suffix, so never another file's name)."""
    names = []
    for path in paths:
        name = candidate = visible_name(path.name)
        copies = 1
        while candidate in names:
            copies += 1
            candidate = f"{name}~{copies}"
        names.append(candidate)
    return names
