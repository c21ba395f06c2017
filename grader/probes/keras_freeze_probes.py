"""Probes added for the new assignments of issue 3 (being written)."""

from __future__ import annotations
