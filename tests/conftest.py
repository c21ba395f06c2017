"""Shared fixtures: real sandboxed kernels, and the GPU marker's skip."""

from __future__ import annotations

import shutil

import pytest

from grader.testing.live import live_notebook


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by marker
def pytest_collection_modifyitems(config, items):
    """A test that takes a Docker runner carries the ``docker`` marker (CI builds the kernel
    image beside the rest of the suite and runs these after it: ``.ci/run``); a ``gpu``
    test is skipped without CUDA."""
    for item in items:
        if "docker_runner" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def kernel():
    """Factory: ``with kernel(["code", ...]) as nb:`` gives an ``nb`` on a live kernel."""
    from contextlib import contextmanager

    @contextmanager
    def start(cells, **kwargs):
        with live_notebook(cells, **kwargs) as (nb, _run):
            yield nb

    return start


@pytest.fixture(scope="session")
def chromium() -> str:
    path = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if path is None:
        pytest.skip("headless Chromium is not installed (scripts/setup.sh installs it)")
    return path


@pytest.fixture
def no_real_caches(monkeypatch, tmp_path):
    """The test sees only the dataset caches it builds: no GRADER_DATA, an empty home."""
    from grader import datasets

    monkeypatch.delenv("GRADER_DATA", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv(datasets.TIER_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def tensorflow():
    """TensorFlow on one thread, as the notebooks run it (skipped where it is absent)."""
    tf = pytest.importorskip("tensorflow")
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised by an earlier test in this process
        pass
    return tf


def pytest_terminal_summary(terminalreporter):
    """Repeat, at the end, why the Docker tests did not run: a skip must not look like a pass."""
    reasons = set()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        if "DOCKER TESTS NOT RUN" in message:
            reasons.add(message.split("DOCKER TESTS NOT RUN: ", 1)[-1])
    for reason in sorted(reasons):
        terminalreporter.write_sep("!", "the Docker runner was NOT tested", red=True, bold=True)
        terminalreporter.write_line(f"reason: {reason}")
        terminalreporter.write_line(
            "to test it: as root, bash scripts/docker-engine.sh && bash docker/build.sh cpu"
        )
