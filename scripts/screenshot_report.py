"""Photograph the report of the graded folder in tests/report/ for the README: docs/report.webp.

    .venv/bin/python -m scripts.screenshot_report

Needs Debian's chromium package. WebP keeps the picture under 300 KB where a PNG of it is not.
"""

import pathlib
import shutil
import tempfile

from kit import report
from kit.layout import ROOT
from tests.chromium import Browser

SHOT = ROOT / "docs" / "report.webp"
WIDTH = 1000


def main():
    with tempfile.TemporaryDirectory() as scratch:
        out = pathlib.Path(scratch) / "grades"
        shutil.copytree(ROOT / "tests" / "report" / "out", out)
        report.main(out=out)
        with Browser(width=WIDTH) as browser:
            browser.open((out / report.REPORT_HTML).as_uri())
            SHOT.write_bytes(browser.screenshot(image_format="webp", quality=90))
    print(f"{SHOT} ({SHOT.stat().st_size / 1024:,.0f} KB)")


if __name__ == "__main__":
    main()
