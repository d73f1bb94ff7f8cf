#!/usr/bin/env bash
# Grade a folder of submissions with `otter grade` (Docker containers), where Docker runs.
#   scripts/otter_grade.sh <assignment> <submissions-dir> <out-dir> [ext: zip|ipynb] [timeout-s] [containers]
# Writes <out-dir>/final_grades.csv (the same layout as `make grade`). Without a Docker engine it
# says so and exits 0 without grading: use `make grade` there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then
    echo "usage: $0 <assignment> <submissions-dir> <out-dir> [zip|ipynb] [timeout-s] [containers]" >&2
    exit 2
fi
assignment=$1 submissions=$2 out=$3 ext=${4:-zip} timeout=${5:-600} containers=${6:-2}
if ! docker info >/dev/null 2>&1; then
    echo "otter grade: skipped, no Docker engine is running here. Grade without Docker instead:"
    echo "  make grade ASSIGNMENT=$assignment SUBMISSIONS=$submissions OUT=$out TIMEOUT=$timeout"
    exit 0
fi
mkdir -p "$out"
.venv/bin/otter grade -n "$assignment" -a "autograder/$assignment/autograder.zip" --ext "$ext" \
    --timeout "$timeout" --containers "$containers" -o "$out" "$submissions"
