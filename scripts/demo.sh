#!/usr/bin/env bash
# Set up (if needed) and grade the bundled example submissions of every assignment, as an
# instructor grades a class: `grader batch`, two at a time, into a gradebook per assignment.
# Reports land in grading-output/ASSIGNMENT/NOTEBOOK/ (report.html, report.md, results.json),
# with grading-output/ASSIGNMENT/summary.html for the class. Run it again and only changed
# notebooks are graded; DEMO_REGRADE=1 grades everything again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
regrade=()
if [[ "${DEMO_REGRADE:-0}" == "1" ]]; then regrade=(--regrade); fi
for folder in examples/submissions/*/; do
  assignment=$(basename "$folder")
  .venv/bin/grader batch "$folder" --assignment "$assignment" --workers 2 \
    --out "grading-output/$assignment" "${regrade[@]}"
done
echo "reports: $(pwd)/grading-output/ (summary.html in each assignment's folder)"
