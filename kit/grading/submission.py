"""Take the one notebook out of an upload (.ipynb, export .zip, or Gradescope's unpacked folder); nothing else.

Every other file of a submission (data/, images/, tests/, .OTTER_LOG, ...) is left where it is:
the kernel gets the autograder's own copies instead. Reads are capped, links are not followed,
and messages say what is wrong without quoting the file.
"""

import os
import pathlib
import stat
import zipfile

import nbformat
from otter.nbmeta_config import NBMetadataConfig

MAX_NOTEBOOK_BYTES = 50 * 2**20
MAX_ZIP_ENTRIES = 2_000


class SubmissionError(ValueError):
    """The upload cannot be graded: error names the kind (NotJSONError, BadZipFile, ...), detail says what is wrong."""

    def __init__(self, error, detail):
        super().__init__(f"{error}: {detail}")
        self.error, self.detail = error, detail


def read_notebook(upload, assignment):
    """The submitted notebook as a NotebookNode, checked to belong to this assignment."""
    upload = pathlib.Path(upload)
    if upload.is_dir():
        text = read_capped(upload / only_notebook([path.name for path in upload.iterdir()]))
    elif upload.suffix == ".zip":
        text = text_from_zip(upload)
    else:
        text = read_capped(upload)
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:
        raise SubmissionError(type(error).__name__, "the file is not a readable Jupyter notebook") from None
    got = NBMetadataConfig.from_notebook(notebook).assignment_name
    if got != assignment:
        raise SubmissionError("OtterRuntimeError", f"Received submission for assignment '{got}' "
                              f"(this is assignment '{assignment}')")
    return notebook


def only_notebook(names):
    notebooks = [name for name in names if name.endswith(".ipynb") and not name.startswith(".")]
    if not notebooks:
        raise SubmissionError("OtterRuntimeError", "No gradable files found in submission")
    if len(notebooks) > 1:
        raise SubmissionError("OtterRuntimeError", f"More than one .ipynb file found in submission ({len(notebooks)})")
    return notebooks[0]


def read_capped(path):
    """A regular file's text, at most MAX_NOTEBOOK_BYTES, without following a link."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise SubmissionError("OSError", f"cannot open the submission ({error.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise SubmissionError("OSError", "the submission is not a regular file")
        data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    return decoded(data)


def text_from_zip(path):
    """Read only the notebook entry of an export zip, decompressing at most MAX_NOTEBOOK_BYTES."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise SubmissionError("BadZipFile", f"the zip holds {len(entries):,} files")
            top_level = [entry.filename for entry in entries if "/" not in entry.filename.strip("/")]
            with archive.open(only_notebook(top_level)) as entry:
                return decoded(entry.read(MAX_NOTEBOOK_BYTES + 1))
    except zipfile.BadZipFile as error:
        raise SubmissionError("BadZipFile", str(error)) from None


def decoded(data):
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError("FileTooLarge", f"the notebook is over {MAX_NOTEBOOK_BYTES // 2**20} MB")
    return data.decode("utf-8", errors="replace")
