#!/usr/bin/env bash
# Set up (if needed) and grade the bundled example submissions of every assignment.
# Reports land in grading-output/ASSIGNMENT/NOTEBOOK/ (report.html, report.md, results.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for folder in examples/submissions/*/; do
  assignment=$(basename "$folder")
  .venv/bin/grader grade "$folder"*.ipynb --assignment "$assignment" --out "grading-output/$assignment"
done
echo "reports: $(pwd)/grading-output/"
