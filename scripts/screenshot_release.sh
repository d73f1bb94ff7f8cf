#!/usr/bin/env bash
# Render a release notebook to HTML with nbconvert and photograph it in headless Chromium, to see
# that its pictures display from the release folder. Needs Debian's chromium package.
#   scripts/screenshot_release.sh [assignment] [out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-sequential_mnist}
shot=${2:-graded/screenshots/$name.png}
command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)"; exit 1; }
mkdir -p "$(dirname "$shot")"
shot=$(realpath "$shot")
# The HTML goes beside the notebook so that its relative image paths resolve as in Jupyter.
html="assignment/$name/.preview-$name.html"
trap 'rm -f "$html"' EXIT
.venv/bin/jupyter nbconvert --to html --output "$(basename "$html" .html)" "assignment/$name/$name.ipynb" >/dev/null 2>&1
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$(mktemp -d)" --hide-scrollbars \
    --window-size=1100,9000 --screenshot="$shot" "file://$PWD/$html" 2>/dev/null
echo "$shot"
