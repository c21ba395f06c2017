"""Build the runner a command or a batch worker asked for, by name."""

from __future__ import annotations

from grader.config import DockerSettings, RunnerName
from grader.runners.base import Runner
from grader.runners.warm import KernelPool

RUNNER_NAMES: tuple[RunnerName, ...] = ("local", "docker")


def build_runner(
    name: RunnerName = "local",
    sandbox: str = "auto",
    docker: DockerSettings | None = None,
    batch: str | None = None,
    pool: KernelPool | None = None,
    warm_imports: tuple[str, ...] = (),
) -> Runner:
    """The local runner (with ``sandbox``), or the Docker runner (with ``docker``).

    The Docker runner is checked at once: no engine or no image raises
    :class:`~grader.runners.base.RunnerUnavailable` here, never a silent fallback.
    A ``pool`` (a batch worker's) lets the local runner start each next kernel ahead of
    time, importing ``warm_imports``; the Docker runner starts its containers on demand
    (each one mounts its own submission).
    """
    if name == "docker":
        from grader.runners.docker import DockerRunner

        runner = DockerRunner(docker, batch=batch)
        runner.check()
        return runner
    from grader.runners.local import LocalRunner

    return LocalRunner(None if sandbox == "auto" else sandbox, pool, warm_imports)
