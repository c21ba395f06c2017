#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite, lint included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check grader tests bench scripts
.venv/bin/ruff format --check grader tests bench scripts
# Two test processes: kernels run one thread each, so two share a 2-core machine well and
# the suite takes about half the time. DLGRADER_TEST_WORKERS=0 runs it in one process.
.venv/bin/python -m pytest -n "${DLGRADER_TEST_WORKERS:-2}" --dist worksteal "$@"
