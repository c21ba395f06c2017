"""safe_ast.parse retries in a fresh thread when CPython 3.11 raises its AST recursion
SystemError in a long-lived thread, and still reports real syntax errors."""

from __future__ import annotations

import ast
import threading

import pytest

from grader import safe_ast


def test_a_systemerror_in_this_thread_is_retried_in_a_fresh_one(monkeypatch):
    real, main = ast.parse, threading.get_ident()

    def broken_here(source, filename="<unknown>", *args, **kwargs):
        if threading.get_ident() == main:
            raise SystemError("AST constructor recursion depth mismatch (before=174, after=226)")
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", broken_here)
    tree = safe_ast.parse("x = 1\ny = x")
    assert [type(node).__name__ for node in tree.body] == ["Assign", "Assign"]


def test_syntax_errors_still_raise():
    with pytest.raises(SyntaxError):
        safe_ast.parse("def (")
