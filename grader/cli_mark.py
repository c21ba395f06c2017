"""``grader mark``: marks a person gives (viva, write-up) and instructor overrides."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Nothing yet: the ``mark`` command comes with manual criteria (issue 9)."""
