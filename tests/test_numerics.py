"""Deterministic numerics: what a kernel starts with and what it is seeded with (issue 16).

The real kernel is asked what it got: its thread counts, torch's CPU capability and the
first draws of its generators. A mutation that dropped any variable or the preamble
fails here, not as a verdict that changes with the CPU.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from grader import numerics
from grader.config import Numerics
from grader.testing.live import live_notebook

CELLS = [
    """
import os, random
import numpy as np
first_random = random.random()
first_numpy = float(np.random.rand())
names_before = sorted(k for k in globals() if not k.startswith('_'))
threads_env = os.environ.get("OMP_NUM_THREADS")
hash_seed = os.environ.get("PYTHONHASHSEED")
""",
]
TORCH_CELLS = [
    """
import torch
torch_threads = torch.get_num_threads()
torch_capability = torch.backends.cpu.get_cpu_capability()
first_torch = float(torch.rand(1))
deterministic = torch.are_deterministic_algorithms_enabled()
""",
]


def test_variables_pin_threads_and_avx2(monkeypatch):
    monkeypatch.setattr(numerics, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    env = numerics.kernel_variables(Numerics(threads=3, seed=9))
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert env["MKL_CBWR"] == "AVX2" and env["OPENBLAS_CORETYPE"] == "Haswell"
    assert env["PYTHONHASHSEED"] == "9"
    assert "TF_ENABLE_ONEDNN_OPTS" not in env
    assert numerics.kernel_variables(Numerics(tf_onednn=False))["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_a_cpu_without_avx2_keeps_its_libraries_own_choice(monkeypatch):
    monkeypatch.setattr(numerics, "cpu_flags", lambda: frozenset({"sse4_2"}))
    env = numerics.kernel_variables(Numerics())
    assert "ATEN_CPU_CAPABILITY" not in env and "OPENBLAS_CORETYPE" not in env
    assert numerics.describe(Numerics(), "numpy")["isa"] == "native"


def test_threads_never_exceed_a_runners_cpu_quota():
    assert numerics.effective_threads(Numerics(threads=4), cpu_quota=2.0) == 2
    assert numerics.effective_threads(Numerics(threads=1), cpu_quota=0.5) == 1
    assert numerics.effective_threads(Numerics(threads=4)) == 4


def test_kernel_is_seeded_before_the_first_cell_without_a_trace():
    with live_notebook(CELLS, numerics=Numerics(seed=5)) as (nb, run):
        assert not run.execution.errors
        reference = random.Random(5)
        assert nb.get("first_random") == reference.random()
        assert nb.get("first_numpy") == float(np.random.RandomState(5).rand())
        assert nb.get("threads_env") == "1" and nb.get("hash_seed") == "5"
        # The preamble bound nothing: only the cell's own names exist.
        own = {"os", "random", "np", "first_random", "first_numpy"}
        ipython = {"In", "Out", "exit", "quit", "get_ipython", "open"}
        assert set(nb.get("names_before")) - ipython == own


@pytest.mark.slow
def test_torch_runs_one_thread_on_avx2_deterministically():
    pytest.importorskip("torch")
    if "avx2" not in numerics.cpu_flags():
        pytest.skip("this CPU has no AVX2")
    with live_notebook(TORCH_CELLS, numerics=Numerics(seed=3), framework="pytorch") as (nb, run):
        assert not run.execution.errors
        assert nb.get("torch_threads") == 1
        assert nb.get("torch_capability") == "AVX2"
        assert nb.get("deterministic") is True
        import torch

        assert nb.get("first_torch") == float(
            torch.rand(1, generator=torch.Generator().manual_seed(3))
        )
    with live_notebook(TORCH_CELLS, numerics=Numerics(threads=2), framework="pytorch") as (nb, _):
        assert nb.get("torch_threads") == 2
