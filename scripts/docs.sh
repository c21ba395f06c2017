#!/usr/bin/env bash
# Build the documentation site into build/site/ (warnings are errors), after checking
# that the generated reference pages match the code. DOCS_SERVE=1 serves it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python scripts/docs_reference.py --check
if [[ "${DOCS_SERVE:-0}" == "1" ]]; then
  exec .venv/bin/mkdocs serve --strict
fi
.venv/bin/mkdocs build --strict "$@"
echo "site: $(pwd)/build/site/index.html"
