"""Kernel side of deterministic grading: seed the generators and fix the thread counts.

The grader runs :func:`prepare` once, silently, before the notebook's first cell
(:func:`grader.numerics.preamble`). It binds no name in the notebook. The variables that
must be set before a library loads (instruction set, OpenMP threads) are already in the
kernel's environment; what only a call can set is set here.
"""

from __future__ import annotations

import random
import warnings


def prepare(seed: int, threads: int, frameworks: list[str]) -> None:
    """Seed ``random``, NumPy and the named frameworks; fix their thread counts."""
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass
    if "torch" in frameworks:
        _prepare_torch(seed, threads)
    if "tensorflow" in frameworks:
        _prepare_tensorflow(seed, threads)


def _prepare_torch(seed: int, threads: int) -> None:
    try:
        import torch
    except ImportError:
        return  # the notebook meets the same error in its own import, where it belongs
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:
        pass  # only settable before the first parallel work; a fresh kernel has done none
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.use_deterministic_algorithms(True, warn_only=True)


def _prepare_tensorflow(seed: int, threads: int) -> None:
    try:
        import tensorflow as tf
    except ImportError:
        return
    tf.random.set_seed(seed)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow's runtime already started: TF_NUM_*_THREADS set it instead
