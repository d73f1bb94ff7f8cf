"""Photograph a graded folder's report for the README: docs/report.webp.

    .venv/bin/python -m scripts.screenshot_report [OUT]   (default: the fixture in tests/report/)

docs/report.webp is `make demo`'s sequential_mnist batch: graded/demo/sequential_mnist.

Needs Debian's chromium package. WebP keeps the picture under 300 KB where a PNG of it is not.
"""

import pathlib
import shutil
import sys
import tempfile

from kit import report
from kit.layout import ROOT
from scripts.chromium import Browser

SHOT = ROOT / "docs" / "report.webp"
WIDTH = 1000


def main(graded=ROOT / "tests" / "report" / "out"):
    with tempfile.TemporaryDirectory() as scratch:
        out = pathlib.Path(scratch) / "grades"
        shutil.copytree(graded, out)
        report.main(out=out)
        with Browser(width=WIDTH) as browser:
            browser.open((out / report.REPORT_HTML).as_uri())
            SHOT.write_bytes(browser.screenshot(image_format="webp", quality=80))
    print(f"{SHOT} ({SHOT.stat().st_size / 1024:,.0f} KB)")


if __name__ == "__main__":
    main(*sys.argv[1:])
