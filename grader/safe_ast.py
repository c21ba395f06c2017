"""``ast.parse`` that survives CPython 3.11's "AST constructor recursion depth mismatch".

In a long-lived process (a batch worker, a test session) CPython 3.11.7 can raise
``SystemError: AST constructor recursion depth mismatch`` from ``ast.parse`` after an
earlier deep recursion in the same thread (CPython issue 106905, fixed in later
releases). A fresh thread starts with fresh recursion bookkeeping, so the parse is
retried there once: the source is parsed, never run.
"""

from __future__ import annotations

import ast
from concurrent.futures import ThreadPoolExecutor


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    try:
        return ast.parse(source, filename)
    except SystemError:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(ast.parse, source, filename).result()
