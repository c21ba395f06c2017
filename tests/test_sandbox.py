"""The local runner's sandbox: what student code can and cannot reach (real kernels)."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from grader.config import Limits
from grader.runners.local import LocalRunner
from grader.runners.warm import KernelPool
from grader.testing.live import live_notebook

REPO = Path(__file__).resolve().parent.parent
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


@pytest.fixture(scope="module")
def pool():
    pool = KernelPool()
    yield pool
    pool.close()


@pytest.fixture(params=["started", "forked"])
def kernel(request, pool):
    """Every confinement holds for a kernel started in its sandbox and for one a batch
    worker forks into it from a zygote (where this machine allows one)."""
    from contextlib import contextmanager

    @contextmanager
    def start(cells, **kwargs):
        runner = None
        if request.param == "forked":
            pool.expect_more = False  # no kernel waits ahead; only the zygote is kept
            runner = LocalRunner(pool=pool, warm_imports=("numpy",))
        with live_notebook(cells, runner=runner, **kwargs) as (nb, _run):
            yield nb

    return start


def connect_cell(port: int) -> str:
    """A cell that tries the grader's loopback server and records what happened."""
    return (
        "import os, socket\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    net = 'open'\n"
        "except OSError as e:\n    net = type(e).__name__"
    )


@pytest.fixture(scope="module")
def loopback_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    threading.Thread(target=lambda: server.accept(), daemon=True).start()
    yield server.getsockname()[1]
    server.close()


@needs_bwrap
def test_bubblewrap_is_the_default_and_confines(kernel, loopback_server):
    assert LocalRunner().sandbox == "bubblewrap"
    cells = [
        connect_cell(loopback_server),
        f"repo = sorted(os.listdir({str(REPO)!r}))",
        f"fixtures_visible = os.path.exists({str(REPO / 'tests' / 'fixtures')!r})",
        "pid = os.getpid()\nsecret = os.environ.get('DLGRADER_TEST_SECRET')",
        "try:\n    open('/usr/evil', 'w'); ro = False\nexcept OSError:\n    ro = True",
        "open('scratch.txt', 'w').write('ok'); wrote = open('scratch.txt').read()",
        "try:\n    block = bytearray(3 * 1024**3); mem = 'allocated'\n"
        "except MemoryError:\n    mem = 'MemoryError'",
    ]
    os.environ["DLGRADER_TEST_SECRET"] = "s3cret"
    try:
        with kernel(cells, limits=Limits(memory_mb=2048)) as nb:
            assert nb.get("net") in ("ConnectionRefusedError", "OSError"), "network reachable"
            assert "tests" not in nb.get("repo") and "grader" in nb.get("repo")
            assert nb.get("fixtures_visible") is False
            assert nb.get("pid") < 10, "kernel should be in its own PID namespace"
            assert nb.get("secret") is None, "grader environment leaked into the kernel"
            assert nb.get("ro") is True and nb.get("wrote") == "ok"
            assert nb.get("mem") == "MemoryError"
    finally:
        del os.environ["DLGRADER_TEST_SECRET"]


@needs_bwrap
def test_kernel_cannot_kill_the_grader(kernel):
    cells = ["import os, signal", "os.killpg(0, signal.SIGKILL)"]
    with kernel(cells) as nb:
        assert nb is not None
    assert os.getpid() > 0  # still here: the kernel's process group is not ours


def test_without_a_sandbox_the_runner_says_so():
    runner = LocalRunner("none")
    enforcement = runner.enforcement(Limits())
    assert not enforcement.network_blocked and enforcement.warnings
    assert "no sandbox" in enforcement.warnings[0]


def test_unshare_fallback_blocks_network(kernel, monkeypatch, loopback_server):
    if shutil.which("unshare") is None:
        pytest.skip("unshare not available")
    monkeypatch.setenv("GRADER_SANDBOX", "unshare")
    cells = [
        connect_cell(loopback_server),
    ]
    with kernel(cells) as nb:
        assert nb.get("net") != "open"


def test_tmp_is_mounted_before_the_paths_bound_into_it(tmp_path):
    """A checkout or virtualenv under /tmp must stay visible inside the sandbox."""
    from grader.runners.local import bubblewrap_argv

    argv = bubblewrap_argv(tmp_path, Limits())
    tmpfs = argv.index("--tmpfs")
    binds = [i for i, arg in enumerate(argv) if arg in ("--ro-bind", "--bind")]
    assert binds and all(i > tmpfs for i in binds)


def test_assignment_data_is_read_only_at_data(kernel, tmp_path):
    """The notebook opens data/... as in its release, and cannot change the course's copy."""
    source = tmp_path / "data"
    (source / "nested").mkdir(parents=True)
    (source / "nested" / "base.txt").write_text("weights")
    cells = [
        "text = open('data/nested/base.txt').read()\n"
        "try:\n    open('data/nested/base.txt', 'w').write('tampered')\n    refused = None\n"
        "except OSError as error:\n    refused = type(error).__name__"
    ]
    with kernel(cells, data=source) as nb:
        assert nb.get("text") == "weights"
        if LocalRunner().sandbox == "bubblewrap":
            assert nb.get("refused") == "OSError"
    assert (source / "nested" / "base.txt").read_text() == "weights"


def test_threads_do_not_eat_the_memory_limit(kernel):
    """RLIMIT_AS counts address space, and glibc reserves a 64 MiB malloc arena per thread:
    with two BLAS threads a numpy-and-scipy kernel passed 1 GiB that way and crashed
    mid-request. Twenty threads that each allocate must leave a 1 GiB kernel its memory."""
    cells = [
        "import threading\n"
        "gate = threading.Barrier(21)\n"
        "def hold():\n"
        "    kept = [bytearray(4096) for _ in range(64)]\n"
        "    gate.wait()\n"
        "threads = [threading.Thread(target=hold) for _ in range(20)]\n"
        "for t in threads: t.start()\n"
        "gate.wait()\n"
        "for t in threads: t.join()",
        "try:\n    block = bytearray(400 * 1024**2); mem = 'allocated'\n"
        "except MemoryError:\n    mem = 'MemoryError'",
    ]
    with kernel(cells, limits=Limits(memory_mb=1024)) as nb:
        assert nb.get("mem") == "allocated"


def test_a_kernel_that_dies_mid_request_is_reported_as_stopped_not_hung(kernel):
    """A test's call that ends the kernel gets no answer; the detail must name the death,
    the real cause, not a hang the student would go looking for, and say so without
    waiting out the request's deadline."""
    from grader.testing.fixture import KernelNotRunning

    cells = ["import os\ndef leave():\n    os._exit(3)"]
    with kernel(cells, limits=Limits(request_timeout=60)) as nb:
        started = time.monotonic()
        with pytest.raises(KernelNotRunning, match="stopped while answering a test"):
            nb.call("leave")
        # Found while waiting (the bridge looks every second), not at the 60 s deadline.
        assert time.monotonic() - started < 20


def forking_runner() -> tuple[KernelPool, LocalRunner]:
    """A batch worker's pool and runner, whose kernels are forked from a zygote."""
    from grader.runners.local import gpu_present
    from grader.runners.zygote import zygote_allowed

    if not zygote_allowed("bubblewrap", gpu_present(), ("numpy",)):
        pytest.skip("kernels are not forked on this machine (GPU, or GRADER_ZYGOTE=off)")
    pool = KernelPool()
    pool.expect_more = False  # no kernel waits ahead: each session forks its own
    return pool, LocalRunner(pool=pool, warm_imports=("numpy",))


@needs_bwrap
def test_a_workers_kernel_is_forked_from_its_zygote_which_ends_with_the_pool():
    """The zygote forks each kernel (it and the kernel's waiting parent are its only
    descendants while the session runs), nothing of the kernel outlives the session,
    and closing the worker's pool ends the zygote and removes its folder."""
    import psutil

    pool, runner = forking_runner()
    try:
        for _ in range(2):
            with live_notebook(["x = 6 * 7"], runner=runner) as (nb, _run):
                assert nb.get("x") == 42
                (zygote,) = pool.zygotes
                assert len(psutil.Process(zygote.process.pid).children(recursive=True)) == 2
            deadline = time.monotonic() + 10
            while psutil.Process(zygote.process.pid).children() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not psutil.Process(zygote.process.pid).children()
        assert pool.zygotes == [zygote], "both kernels came from one zygote"
    finally:
        pool.close()
    assert not zygote.alive() and not zygote.folder.exists()


@needs_bwrap
def test_kernels_fork_from_a_zygote_another_process_started_which_outlives_the_pool():
    """A local batch's workers use the zygote the command started (found by its recipe's
    key): none of their own, and closing a worker's pool leaves the command's running."""
    import psutil

    from grader import numerics
    from grader.config import Numerics
    from grader.runners.zygote import Zygote

    pool, runner = forking_runner()
    recipe = runner.zygote_recipe(numerics.kernel_variables(Numerics()))
    owned = recipe.start()
    try:
        pool.adopt(recipe.key, Zygote.attach(owned.reference()))
        with live_notebook(["x = 6 * 7"], runner=runner) as (nb, _run):
            assert nb.get("x") == 42
            assert len(psutil.Process(owned.pid).children(recursive=True)) == 2
        assert [z.pid for z in pool.zygotes] == [owned.pid], "the pool started its own"
        pool.close()
        assert owned.alive() and owned.folder.exists()
    finally:
        pool.close()
        owned.close()
    assert not owned.alive() and not owned.folder.exists()


@needs_bwrap
def test_a_zygote_killed_mid_batch_is_replaced_and_grading_goes_on():
    """A zygote that dies mid-grading (out of memory, say) takes no student's running
    kernel with it, and the next kernel comes from a new zygote."""
    pool, runner = forking_runner()
    try:
        with live_notebook(["x = 1"], runner=runner) as (nb, _run):
            (first,) = pool.zygotes
            first.process.kill()
            first.process.wait()
            time.sleep(0.5)  # the launcher has seen the zygote's socket close
            try:
                assert nb.get("x") == 1
            except pytest.skip.Exception:  # how the bridge reports a kernel that stopped
                pytest.fail("the running kernel died with its zygote")
        with live_notebook(["x = 2"], runner=runner) as (nb, _run):
            assert nb.get("x") == 2
        (second,) = pool.zygotes
        assert second is not first and second.alive()
    finally:
        pool.close()
