"""Measurements of the kernel's environment: RNG state, accelerators, frameworks.

Nothing here imports torch or TensorFlow: a library that the notebook has not
imported is reported as absent rather than loaded (importing TensorFlow costs
seconds and memory, and seeding a library the student never uses proves
nothing).
"""

from __future__ import annotations

import random
import sys
from typing import Any

import numpy as np

from grader.probes.library import probe


def _imported(name: str) -> Any:
    return sys.modules.get(name)


@probe("env.seed_all")
def seed_all(seed: int = 0) -> list[str]:
    """Seed ``random``, NumPy's global RNG, and torch / TensorFlow / Keras if imported.

    Returns the names of the generators seeded, so a check can say which were.
    """
    seeded = ["random", "numpy"]
    random.seed(seed)
    np.random.seed(seed)
    torch = _imported("torch")
    if torch is not None:
        torch.manual_seed(seed)  # the CPU generator and every CUDA device's
        seeded.append("torch")
    tf = _imported("tensorflow")
    if tf is not None:
        tf.random.set_seed(seed)
        seeded.append("tensorflow")
    keras = _imported("keras")
    if keras is not None:
        keras.utils.set_random_seed(seed)  # also seeds Keras's own SeedGenerator state
        seeded.append("keras")
    return seeded


@probe("env.rng_fingerprint")
def rng_fingerprint(n: int = 3) -> dict[str, list[float]]:
    """``n`` draws from each global generator (advancing them), to compare two runs."""
    draws: dict[str, list[float]] = {
        "random": [random.random() for _ in range(n)],
        "numpy": [float(v) for v in np.random.random_sample(n)],
    }
    torch = _imported("torch")
    if torch is not None:
        draws["torch"] = [float(v) for v in torch.rand(n)]
    tf = _imported("tensorflow")
    if tf is not None:
        draws["tensorflow"] = [float(v) for v in tf.random.uniform((n,)).numpy()]
    return draws


@probe("env.framework_of")
def framework_of(obj: Any) -> str:
    """``torch``, ``keras`` or ``other``: which probe group can measure ``obj``."""
    torch = _imported("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return "torch"
    keras = _imported("keras")
    if keras is not None and isinstance(obj, keras.Layer):
        return "keras"
    return "other"


@probe("env.accelerators")
def accelerators() -> dict[str, Any]:
    """What the kernel can use: CUDA through torch, GPUs through TensorFlow (if imported)."""
    info: dict[str, Any] = {"torch_imported": False, "tensorflow_imported": False}
    torch = _imported("torch")
    if torch is not None:
        cuda = bool(torch.cuda.is_available())
        info.update(
            torch_imported=True,
            cuda_available=cuda,
            cuda_device_count=int(torch.cuda.device_count()) if cuda else 0,
            cuda_device_name=str(torch.cuda.get_device_name(0)) if cuda else None,
        )
    tf = _imported("tensorflow")
    if tf is not None:
        gpus = tf.config.list_physical_devices("GPU")
        info.update(tensorflow_imported=True, tensorflow_gpus=[str(d.name) for d in gpus])
    return info


@probe("env.versions")
def versions() -> dict[str, str]:
    """Versions of Python and of the numeric libraries the notebook has imported."""
    found = {"python": sys.version.split()[0], "numpy": np.__version__}
    for name in ("torch", "tensorflow", "keras", "sklearn"):
        module = _imported(name)
        if module is not None:
            found[name] = str(getattr(module, "__version__", "unknown"))
    return found
