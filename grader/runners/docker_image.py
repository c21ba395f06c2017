"""Which kernel image the Docker runner uses, and whether it matches this grader.

The image holds the grader's kernel side (:mod:`grader.probes`, :mod:`grader.datasets`):
the code that serves requests in the kernel. If that code differs from the grader's own,
requests and replies may not agree, so the image carries a digest of it (a label set by
``docker/build.sh``) and the runner refuses an image whose digest is not its own.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader import __version__

#: The image's label holding the kernel-side digest.
DIGEST_LABEL = "org.dlgrader.kernel-digest"
#: The packages that run inside the kernel.
KERNEL_PACKAGES = ("probes", "datasets")


def image_tag(kind: str) -> str:
    """``dlgrader/kernel-cpu:0.1.0`` or ``dlgrader/kernel-gpu:0.1.0``."""
    return f"dlgrader/kernel-{kind}:{__version__}"


def kernel_digest() -> str:
    """A short digest of the kernel-side source files, in a fixed order."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    files = [root / "__init__.py"]
    for package in KERNEL_PACKAGES:
        files += sorted((root / package).rglob("*.py"))
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
