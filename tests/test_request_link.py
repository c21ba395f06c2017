"""The bridge's requests travel on a Jupyter comm, and fall back to executions (real kernels)."""

import pytest

from grader.bridge import StudentError
from grader.config import Limits
from grader.testing.live import live_notebook

FAST = Limits(cell_timeout=10, notebook_timeout=60, request_timeout=5)


def test_requests_bypass_the_notebooks_input_transformers():
    """An IPython input transformer rewrites every executed statement (hazards.md, "lies
    from inside the kernel"). Requests on the link are not statements: it cannot touch them."""
    cells = [
        "def ok():\n    return 42\n"
        "def hijack(lines):\n    return ['raise ValueError(\"hijacked\")\\n']\n"
        "get_ipython().input_transformers_post.append(hijack)",
    ]
    with live_notebook(cells, FAST) as (nb, _run):
        assert nb.call("ok") == 42
        assert nb.exists("ok")


def test_replies_reach_the_grader_while_the_notebook_filters_its_display_output():
    """A notebook may hook IPython's display publisher (``register_hook``) and
    drop what it publishes; a reply is sent on IOPub by the kernel side itself."""
    cells = [
        "get_ipython().display_pub.register_hook(lambda message: None)\ndef ok():\n    return 42",
    ]
    with live_notebook(cells, FAST) as (nb, _run):
        assert nb.call("ok") == 42
        assert nb.exists("ok")


def test_exits_and_interrupts_in_a_request_are_answered_and_the_kernel_goes_on():
    """Nothing around a comm handler catches SystemExit or an interrupt: the kernel side
    answers them, so a test gets the student's error and the next request is served."""
    cells = [
        "import sys, time\ndef leave():\n    sys.exit(3)\ndef stuck():\n    while True:\n"
        "        time.sleep(0.01)\ndef ok():\n    return 42",
    ]
    with live_notebook(cells, FAST) as (nb, _run):
        with pytest.raises(StudentError, match="SystemExit"):
            nb.call("leave")
        assert nb.call("ok") == 42
        with pytest.raises(Exception, match="no answer"):
            nb.call("stuck")
        assert nb.call("ok") == 42


def test_a_notebook_that_closes_the_link_is_still_answered():
    """Student code can close the comm; the request that finds it gone is sent again as an
    execution, and so are all later ones."""
    cells = [
        "def close_all():\n    manager = get_ipython().kernel.comm_manager\n"
        "    for comm in list(manager.comms.values()):\n        comm.close()\n    return 'closed'",
        "def ok(x):\n    return x + 1",
    ]
    with live_notebook(cells, FAST) as (nb, _run):
        assert nb.call("ok", 1) == 2
        assert nb.call("close_all") == "closed"
        assert [nb.call("ok", n) for n in range(3)] == [1, 2, 3]


def test_a_notebook_without_a_comm_manager_is_served_by_executions():
    """A kernel where the link cannot be opened (its comm manager broken by the notebook,
    an image with an older dlgrader) answers every request as before."""
    cells = ["get_ipython().kernel.comm_manager = None", "def ok(x):\n    return x * 2"]
    with live_notebook(cells, FAST) as (nb, _run):
        assert [nb.call("ok", n) for n in range(3)] == [0, 2, 4]
