"""The integrity tripwire: digests agree across processes, and a replaced function shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from grader.probes import (  # noqa: F401 - library and wire are guarded too
    kernel,
    library,
    wire,  # noqa: F401
)

DIGESTS = (
    "import json; import grader.probes.wire, grader.probes.library;"
    "from grader.probes import kernel; print(json.dumps(kernel.integrity_digests()))"
)


def digests_in_a_new_process(hash_seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", DIGESTS], capture_output=True, text=True, env=env)
    return json.loads(done.stdout)


def test_digests_are_the_same_in_every_process():
    """marshal output follows reference counts and string hashing; the digest must not."""
    first, second = digests_in_a_new_process("1"), digests_in_a_new_process("2")
    assert len(first) > 10 and first == second
    assert {k: v for k, v in kernel.integrity_digests().items() if k in first} == first


def test_a_replaced_function_changes_its_digest(monkeypatch):
    before = kernel.integrity_digests()

    def handle(request_json: str) -> None:
        return None

    monkeypatch.setattr(kernel, "handle", handle)
    after = kernel.integrity_digests()
    changed = [k for k in before if before[k] != after.get(k)]
    assert changed == ["grader.probes.kernel.handle"]
