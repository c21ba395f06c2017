#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite, lint included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check grader tests bench
.venv/bin/ruff format --check grader tests bench
.venv/bin/python -m pytest "$@"
