"""Flags for the instructor: signs that a submission tried to fool the grader, or is misfiled.

Nothing here changes a verdict: verdicts rest on comparisons made in the grader's process
with inputs and expected values the kernel never saw. Flags say that somebody tried, so a
person can look: a replaced kernel-side handler or probe, an object built to equal
anything, a notebook made for another assignment.
"""

from __future__ import annotations

from typing import Any

from grader.bridge import Bridge, BridgeError

MAX_FLAGS = 20


def assignment_mismatch(notebook: Any, assignment: str) -> list[str]:
    """The notebook's own metadata names another assignment (a misfiled submission)."""
    try:
        named = notebook.metadata.get("dlgrader", {}).get("assignment")
    except AttributeError:
        return []
    if isinstance(named, str) and named and named != assignment:
        return [
            f"the notebook was made for assignment '{named[:60]}', but was graded as "
            f"'{assignment}': check that the right file was submitted"
        ]
    return []


def tampered_code(bridge: Bridge) -> list[str]:
    """Compare the kernel's digests of the guarded modules and probes with our own."""
    from grader.probes import kernel

    try:
        seen = bridge.request("integrity", timeout=10)
    except BridgeError:
        return []  # a dead kernel has already said what happened to it
    if type(seen) is not dict:
        return ["the kernel answered the integrity check with something else than digests"]
    ours = kernel.integrity_digests()
    changed = sorted(k for k in ours.keys() & seen.keys() if seen[k] != ours[k])
    # A module the kernel never imported (no probe was asked for) is not missing; a name
    # gone from a module it did import was deleted.
    loaded = {k.rsplit(".", 1)[0] for k in seen if not k.startswith("probe ")}
    missing = sorted(
        k
        for k in ours.keys() - seen.keys()
        if not k.startswith("probe ") and k.rsplit(".", 1)[0] in loaded
    )
    if not changed and not missing:
        return []
    names = ", ".join((changed + missing)[:5])
    return [f"the grader's code inside the kernel was changed or removed: {names}"]


def collect(notebook: Any, assignment: str, bridge: Bridge | None) -> list[str]:
    """Every flag for one submission, the bridge's notes on returned objects included."""
    flags = assignment_mismatch(notebook, assignment)
    if bridge is not None:
        flags += tampered_code(bridge)
        flags += [f"a test received {note}" for note in dict.fromkeys(bridge.notes)]
    return flags[:MAX_FLAGS]
