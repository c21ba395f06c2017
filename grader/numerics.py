"""Deterministic numerics for a kernel: environment variables at its start, seeds before cell 1.

The same notebook must get the same verdict on an AMD or an Intel machine and on one
core or two. Three things made it differ (issue 16): the instruction set each library
picks at run time (an AVX-512 matrix product rounds differently from an AVX2 one, and a
chaotic training run then ends elsewhere), the number of threads a reduction is split
over, and generators the notebook never seeded. :func:`kernel_variables` fixes the first
two before the kernel starts; :func:`preamble` seeds the generators in one silent
execution before the first cell. :func:`describe` is what ``results.environment``
records of both.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from grader.config import Framework, Numerics

#: Frameworks the kernel-side preparation imports and seeds, per assignment framework.
SEEDED_FRAMEWORKS: dict[str, tuple[str, ...]] = {
    "numpy": (),
    "pytorch": ("torch",),
    "keras": ("tensorflow",),
    "tensorflow": ("tensorflow",),
}

#: Variables that pin each library to AVX2 code paths, and to AVX-512 at most.
_ISA_VARIABLES = {
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "DNNL_MAX_CPU_ISA": "AVX2",
        "MKL_CBWR": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
    },
    "avx512": {
        "ATEN_CPU_CAPABILITY": "avx512",
        "ONEDNN_MAX_CPU_ISA": "AVX512_CORE",
        "DNNL_MAX_CPU_ISA": "AVX512_CORE",
        "MKL_CBWR": "AVX512",
        "OPENBLAS_CORETYPE": "SkylakeX",
    },
}
#: The CPU flag each level needs: a level the CPU lacks would crash OpenBLAS.
_ISA_FLAG = {"avx2": "avx2", "avx512": "avx512f"}
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The host CPU's feature flags (empty where /proc/cpuinfo says nothing, e.g. not x86)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def effective_isa(numerics: Numerics) -> str:
    """The level actually pinned: ``native`` when the CPU lacks the one asked for."""
    wanted = numerics.isa
    if wanted == "native" or _ISA_FLAG[wanted] not in cpu_flags():
        return "native"
    return wanted


def effective_threads(numerics: Numerics, cpu_quota: float | None = None) -> int:
    """The configured threads, lowered to a runner's CPU quota (never below one)."""
    if cpu_quota is None:
        return numerics.threads
    return max(1, min(numerics.threads, int(cpu_quota)))


def kernel_variables(numerics: Numerics, cpu_quota: float | None = None) -> dict[str, str]:
    """Environment variables a kernel must start with: they are read at library load."""
    threads = str(effective_threads(numerics, cpu_quota))
    env = dict.fromkeys(_THREAD_VARIABLES, threads)
    env["TF_NUM_INTEROP_THREADS"] = threads
    env["PYTHONHASHSEED"] = str(numerics.seed)
    env.update(_ISA_VARIABLES.get(effective_isa(numerics), {}))
    if numerics.tf_onednn is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = "1" if numerics.tf_onednn else "0"
    return env


def preamble(numerics: Numerics, framework: Framework, cpu_quota: float | None = None) -> str:
    """One statement, run silently before the first cell, that seeds the generators.

    Like every request, it names a kernel-side function and passes plain JSON: it binds
    no name in the notebook and leaves its execution count at 1.
    """
    arguments = {
        "seed": numerics.seed,
        "threads": effective_threads(numerics, cpu_quota),
        "frameworks": list(SEEDED_FRAMEWORKS[framework]),
    }
    return (
        '__import__("grader.probes.determinism", fromlist=["prepare"])'
        f".prepare(**__import__('json').loads({json.dumps(json.dumps(arguments))}))"
    )


def describe(numerics: Numerics, framework: Framework, cpu_quota: float | None = None) -> dict:
    """What ``results.environment.numerics`` records: seed, threads, the pinned variables."""
    variables = kernel_variables(numerics, cpu_quota)
    return {
        "seed": numerics.seed,
        "threads": effective_threads(numerics, cpu_quota),
        "isa": effective_isa(numerics),
        "isa_requested": numerics.isa,
        "seeded": ["random", "numpy", *SEEDED_FRAMEWORKS[framework]],
        "deterministic_algorithms": "torch (warn only)" if framework == "pytorch" else "none",
        "variables": variables,
    }
