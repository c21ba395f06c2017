"""The Docker runner against a real engine: real containers, real limits, nothing left behind.

CI starts ``dockerd``, builds the CPU image beside the rest of the suite and runs these
tests after it (``.ci/run``), with ``DLGRADER_REQUIRE_DOCKER=1`` so that a missing engine
or image fails them.
Elsewhere they are skipped with the reason, which the end of the run repeats loudly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.config import Limits
from grader.course import find_course
from grader.execute import run_notebook
from grader.pipeline import grade
from grader.runners.base import RunnerUnavailable
from grader.runners.docker import (
    BATCH_LABEL,
    LABEL,
    OWNER_LABEL,
    DockerRunner,
    owner_id,
    remove_containers,
)
from grader.runners.local import LocalRunner
from grader.testing.fixture import Notebook
from grader.testing.live import notebook_from_cells

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "submissions"
GRADER = [sys.executable, "-c", "from grader.cli import run; run()"]
SMALL = Limits(cell_timeout=30, request_timeout=20, memory_mb=512, disk_mb=64, processes=64)


@pytest.fixture(scope="module")
def docker_runner() -> DockerRunner:
    """A checked Docker runner: engine answering, image built from this grader's code."""
    try:
        runner = DockerRunner()
        runner.check()
    except RunnerUnavailable as exc:
        if os.environ.get("DLGRADER_REQUIRE_DOCKER") == "1":
            pytest.fail(f"DLGRADER_REQUIRE_DOCKER=1 but the Docker runner cannot work: {exc}")
        pytest.skip(f"DOCKER TESTS NOT RUN: {exc}")
    return runner


def grader_containers(runner: DockerRunner) -> list:
    """Containers this test process owns (tests in other xdist workers have their own)."""
    mine = f"{OWNER_LABEL}={owner_id()}"
    return runner.client.containers.list(all=True, filters={"label": mine})


def batch_containers(runner: DockerRunner) -> list:
    """Containers of any batch; only the batch test below makes them."""
    found = runner.client.containers.list(all=True, filters={"label": LABEL})
    return [c for c in found if (c.labels or {}).get(BATCH_LABEL)]


def run_cells(
    runner: DockerRunner, cells: list[str], limits: Limits = SMALL, submission: Path | None = None
):
    """Run cells in a container; return (execution, {name: value}, breaches)."""
    nb = notebook_from_cells(cells)
    with (
        runner.session(limits, submission=submission) as session,
        run_notebook(nb, session, limits) as run,
    ):
        values = {}
        if run.bridge.dead_reason is None and run.execution.stop_reason is None:
            view = Notebook(run.bridge, {})
            values = {name: view.get(name) for name in ("result",) if view.exists(name)}
        return run.execution, values, session.breaches()


def test_the_kernel_runs_confined(docker_runner):
    execution, values, _ = run_cells(
        docker_runner,
        [
            "import os\n"
            "status = dict(line.split(':\\t', 1) for line in open('/proc/self/status')"
            " if ':\\t' in line)\n"
            "result = {'uid': os.getuid(), 'cwd': os.getcwd(),"
            " 'caps': status['CapEff'].strip(), 'no_new_privs': status['NoNewPrivs'].strip(),"
            " 'interfaces': sorted(os.listdir('/sys/class/net'))}"
        ],
    )
    assert execution.errors == []
    facts = values["result"]
    assert facts["uid"] != 0
    assert facts["cwd"] == "/home/student"
    assert int(facts["caps"], 16) == 0, "every capability is dropped"
    assert facts["no_new_privs"] == "1"
    assert facts["interfaces"] == ["lo"], "no network but loopback"


def test_network_connections_fail(docker_runner):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        _, values, _ = run_cells(
            docker_runner,
            [
                "import socket\nresult = []\n"
                f"for host, port in (('127.0.0.1', {port}), ('pypi.org', 443)):\n"
                "    try:\n"
                "        socket.create_connection((host, port), timeout=3).close()\n"
                "        result.append('open')\n"
                "    except OSError as exc:\n"
                "        result.append(type(exc).__name__)"
            ],
        )
    finally:
        server.close()
    assert "open" not in values["result"], values
    assert values["result"][1] == "gaierror", "no name resolution either"


def test_writes_outside_the_work_folder_fail(docker_runner):
    _, values, _ = run_cells(
        docker_runner,
        [
            "import os\nresult = {}\n"
            "for path in ('/etc/x', '/opt/venv/x', '/usr/x', 'mine.txt', '/tmp/x'):\n"
            "    try:\n"
            "        open(path, 'w').write('x')\n"
            "        result[path] = 'written'\n"
            "    except OSError as exc:\n"
            "        result[path] = exc.strerror\n"
            "try:\n"
            "    open('big', 'wb').write(b'0' * (100 * 1024 * 1024))\n"
            "    result['big'] = 'written'\n"
            "except OSError as exc:\n"
            "    result['big'] = exc.strerror"
        ],
    )
    result = values["result"]
    for outside in ("/etc/x", "/opt/venv/x", "/usr/x"):
        assert result[outside] == "Read-only file system", result
    assert result["mine.txt"] == result["/tmp/x"] == "written"
    assert result["big"] in ("No space left on device", "File too large"), "64 MiB of disk"


def test_the_submission_is_mounted_read_only(docker_runner, tmp_path):
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text('{"cells": []}')
    _, values, _ = run_cells(
        docker_runner,
        [
            "result = {'read': open('/submission/alice.ipynb').read()}\n"
            "try:\n"
            "    open('/submission/alice.ipynb', 'w').write('changed')\n"
            "except OSError as exc:\n"
            "    result['write'] = exc.strerror"
        ],
        submission=notebook,
    )
    assert values["result"] == {"read": '{"cells": []}', "write": "Read-only file system"}
    assert notebook.read_text() == '{"cells": []}'


def test_a_memory_bomb_is_killed_and_reported(docker_runner, tmp_path):
    execution, _, breaches = run_cells(
        docker_runner,
        ["blocks = []\nwhile True:\n    blocks.append(b'x' * (64 * 1024 * 1024))", "after = 1"],
    )
    assert execution.stop_reason and "died" in execution.stop_reason
    assert breaches == ["memory limit"]


def test_a_fork_bomb_stops_at_the_pids_limit(docker_runner):
    _, values, breaches = run_cells(
        docker_runner,
        [
            "import subprocess\nchildren = []\nerror = None\n"
            "try:\n"
            "    for _ in range(500):\n"
            "        children.append(subprocess.Popen(['sleep', '60']))\n"
            "except OSError as exc:\n"
            "    error = type(exc).__name__\n"
            "result = {'started': len(children), 'error': error}\n"
            "for child in children:\n"
            "    child.kill()\n"
            "    child.wait()"
        ],
    )
    assert values["result"]["error"] is not None
    assert values["result"]["started"] < SMALL.processes
    assert breaches == ["process limit"]


def test_a_container_past_its_timeout_is_killed_and_removed(docker_runner):
    limits = SMALL.model_copy(update={"cell_timeout": 3, "notebook_timeout": 10})
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    execution, _, _ = run_cells(docker_runner, [stubborn], limits)
    assert "did not stop when interrupted" in (execution.stop_reason or "")
    assert grader_containers(docker_runner) == []


def test_lenet5_verdicts_match_the_local_runner(docker_runner):
    assignment = find_course(ROOT).assignment("lenet5")
    notebook = EXAMPLES / "lenet5" / "carol_no_zero_grad.ipynb"
    local = grade(assignment, notebook, runner=LocalRunner()).result
    in_docker = grade(assignment, notebook, runner=docker_runner).result
    assert local.grading_error is None and in_docker.grading_error is None
    assert in_docker.environment.runner == "docker"
    verdicts = {c.id: (c.status, c.points) for c in local.criteria}
    assert {c.id: (c.status, c.points) for c in in_docker.criteria} == verdicts
    assert in_docker.score.points == local.score.points
    assert grader_containers(docker_runner) == []


def test_batches_leave_no_container_finished_or_interrupted(docker_runner, tmp_path):
    """One test for both, so no other test's batch containers run meanwhile."""
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for example in ("alice_correct.ipynb", "bob_sign_flip_db1.ipynb"):
        source = EXAMPLES / "backprop" / example
        (submissions / example).write_bytes(source.read_bytes())
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["batch", str(submissions), "-a", "backprop", "--runner", "docker"]
        + ["--workers", "1", "-o", str(out), "--course", str(ROOT)],
    )
    assert result.exit_code == 0, result.output
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    assert sorted(results) == ["alice_correct", "bob_sign_flip_db1"]
    assert all(r["grading_error"] is None for r in results.values())
    assert all(r["environment"]["runner"] == "docker" for r in results.values())
    points = {name: r["score"]["points"] for name, r in results.items()}
    assert points["bob_sign_flip_db1"] < points["alice_correct"], "the sign flip loses marks"
    assert batch_containers(docker_runner) == []
    interrupted_batch_leaves_no_container(docker_runner, tmp_path / "interrupted")


def interrupted_batch_leaves_no_container(docker_runner, tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir(parents=True)
    slow = notebook_from_cells(["import time\ntime.sleep(60)"])
    slow.metadata["dlgrader"] = {"assignment": "backprop"}
    for student in ("s1", "s2"):
        (submissions / f"{student}.ipynb").write_text(json.dumps(slow))
    command = [*GRADER, "batch", str(submissions), "-a", "backprop", "--runner", "docker"]
    command += ["--workers", "2", "-o", str(tmp_path / "out"), "--course", str(ROOT)]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not batch_containers(docker_runner) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert batch_containers(docker_runner), "the batch started a container"
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert batch_containers(docker_runner) == []


def test_containers_of_a_killed_grader_are_removed(docker_runner):
    """A grader killed with SIGKILL runs no cleanup; the next session removes its containers."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = docker_runner.client.containers.create(
        docker_runner.image,
        command=["sleep", "60"],
        labels={LABEL: "1", OWNER_LABEL: f"{socket.gethostname()}:{dead.pid}"},
    )
    mine = docker_runner.client.containers.create(
        docker_runner.image, command=["sleep", "60"], labels={LABEL: "1", OWNER_LABEL: owner_id()}
    )
    try:
        assert remove_containers(docker_runner.client) == 1
        ids = [c.id for c in grader_containers(docker_runner)]
        assert orphan.id not in ids and mine.id in ids, "only the dead process's container"
    finally:
        mine.remove(force=True)


def test_no_engine_is_one_line_and_exit_4(tmp_path):
    """Asked for Docker where no engine answers: say so, never fall back to local."""
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    notebook = EXAMPLES / "backprop" / "alice_correct.ipynb"
    done = subprocess.run(
        [*GRADER, "grade", str(notebook), "-a", "backprop", "--runner", "docker"]
        + ["-o", str(tmp_path / "out"), "--course", str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 4
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no Docker engine answers" in lines[0], done.stderr
    assert not (tmp_path / "out").exists(), "nothing was graded"


def test_the_engine_error_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(RunnerUnavailable, match="scripts/docker-engine.sh"):
        DockerRunner().check()


def test_each_concurrent_session_gets_its_own_gpu(tmp_path, monkeypatch):
    """The slot files share GPUs out across processes; the third session shares one."""
    from grader.runners import gpu_slots

    monkeypatch.setattr(gpu_slots, "LOCK_DIR", tmp_path)
    held: list[str | None] = []
    release = threading.Event()
    ready = threading.Barrier(3)

    def take():
        with gpu_slots.gpu_slot(["0", "1"]) as gpu:
            held.append(gpu)
            ready.wait(timeout=10)
            release.wait(timeout=10)

    # fcntl locks are per open file description, so threads contend like processes do.
    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    ready.wait(timeout=10)
    assert sorted(held) == ["0", "1"]
    with gpu_slots.gpu_slot(["0", "1"]) as shared:
        assert shared in ("0", "1")
    release.set()
    for thread in threads:
        thread.join()
    with gpu_slots.gpu_slot([]) as none:
        assert none is None
