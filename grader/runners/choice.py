"""Build the runner a command or a batch worker asked for, by name."""

from __future__ import annotations

from grader.config import DockerSettings, RunnerName
from grader.runners.base import Runner

RUNNER_NAMES: tuple[RunnerName, ...] = ("local", "docker")


def build_runner(
    name: RunnerName = "local",
    sandbox: str = "auto",
    docker: DockerSettings | None = None,
    batch: str | None = None,
) -> Runner:
    """The local runner (with ``sandbox``), or the Docker runner (with ``docker``).

    The Docker runner is checked at once: no engine or no image raises
    :class:`~grader.runners.base.RunnerUnavailable` here, never a silent fallback.
    """
    if name == "docker":
        from grader.runners.docker import DockerRunner

        runner = DockerRunner(docker, batch=batch)
        runner.check()
        return runner
    from grader.runners.local import LocalRunner

    return LocalRunner(None if sandbox == "auto" else sandbox)
