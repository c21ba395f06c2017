"""The kernel side of the bridge: serve one request from the grader.

Each request is one JSON string, and nothing else: no test code, expected values or
thresholds ever enter the kernel. It arrives as a comm message (see :func:`listen`) or,
where there is no comm, as the one fixed statement
``__import__("grader.probes.kernel", fromlist=["handle"]).handle('<json>')``.
``handle`` looks up a name in the student's namespace, calls it, or runs a probe from
:mod:`grader.probes.library`, and publishes the raw result as display data of type
:data:`REPLY_MIME`. The grader judges that result in its own process.

Objects that are not plain data (a model, a DataLoader) stay here in a table of
references and travel as ``{"$ref": id}``.
"""

from __future__ import annotations

import itertools
import json
import traceback
from typing import Any

from grader.probes import wire

#: The comm target the bridge opens its request link on.
LINK_TARGET = "dlgrader.requests"

_REFS: dict[str, Any] = {}
_COUNTER = itertools.count(1)
MAX_MESSAGE = 4000


def _namespace() -> dict[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:  # plain Python, e.g. a unit test of this module
        import __main__

        return vars(__main__)
    return shell.user_ns


def keep(obj: Any) -> wire.Ref:
    """Store an object in the kernel and hand out a reference to it."""
    ref_id = f"r{next(_COUNTER)}"
    _REFS[ref_id] = obj
    return wire.Ref(ref_id)


def resolve(value: Any) -> Any:
    """Replace references in decoded arguments by the objects they name."""
    if type(value) is wire.Ref:
        try:
            return _REFS[value.id]
        except KeyError:
            raise LookupError(f"the kernel no longer holds object {value.id}") from None
    if type(value) is list:
        return [resolve(v) for v in value]
    if type(value) is tuple:
        return tuple(resolve(v) for v in value)
    if type(value) is dict:
        return {k: resolve(v) for k, v in value.items()}
    return value


def lookup(name: str, callable_wanted: bool = False) -> Any:
    """A dotted name from the student's namespace, e.g. ``model`` or ``model.fc1``."""
    head, *attrs = name.split(".")
    namespace = _namespace()
    if head not in namespace:
        raise NameError(missing_name_message(head, namespace, callable_wanted))
    obj = namespace[head]
    for attr in attrs:
        obj = getattr(obj, attr)
    return obj


#: Names every IPython namespace has; never a student's misspelling of a graded name.
_SHELL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit"})


def missing_name_message(name: str, namespace: dict[str, Any], callable_wanted: bool) -> str:
    """Say that ``name`` is missing, and suggest the student's close spelling of it.

    A test asks for ``forward``; a notebook that defines ``forwad`` or ``Forward`` hears
    which of its names is probably meant. When a function is wanted, only callables are
    candidates, so a missing ``loss`` is not matched with a list called ``losses``.
    """
    import difflib

    candidates = []
    for key, value in list(namespace.items()):
        if type(key) is not str or key.startswith("_") or key in _SHELL_NAMES:
            continue
        try:
            if callable_wanted and not callable(value):
                continue
        except BaseException:  # noqa: BLE001 - a hostile object must not break the reply
            continue
        candidates.append(key)
    message = f"the notebook defines no '{name}'"
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    if close:
        message += f"; it has '{close[0]}': did you mean '{name}'?"
    return message


def _target(request: dict[str, Any]) -> Any:
    target = request["target"]
    if isinstance(target, str):
        return lookup(target, callable_wanted=request["op"] == "call")
    obj = resolve(wire.decode(target))
    for attr in request.get("attrs", []):
        obj = getattr(obj, attr)
    return obj


def _dispatch(request: dict[str, Any]) -> Any:
    op = request["op"]
    if op == "get":
        return _target(request)
    if op == "exists":
        try:
            _target(request)
        except (NameError, AttributeError):
            return False
        return True
    if op == "call":
        args = resolve(wire.decode(request.get("args", {"$list": []})))
        kwargs = resolve(wire.decode(request.get("kwargs", {"$dict": {}})))
        return _target(request)(*args, **kwargs)
    if op == "probe":
        from grader.probes import library

        kwargs = resolve(wire.decode(request.get("kwargs", {"$dict": {}})))
        return library.run(request["probe"], kwargs)
    if op == "integrity":
        return integrity_digests()
    if op == "release":
        for ref_id in request.get("refs", []):
            _REFS.pop(ref_id, None)
        return None
    raise ValueError(f"unknown request {op!r}")


def _encode_result(value: Any, mode: str, notes: list[str]) -> Any:
    def keep_noting(obj: Any) -> wire.Ref:
        notes.extend(suspicions(obj))
        return keep(obj)

    if mode == "ref":
        return wire.encode(keep(value))
    if mode == "auto":
        return wire.encode(value, to_ref=keep_noting)
    return wire.encode(value)


def suspicions(obj: Any) -> list[str]:
    """Signs that an object returned to a test was built to fool a comparison.

    They do not change a verdict (comparisons are made outside, on plain data, so such
    an object fails anyway); they tell the instructor that someone tried.
    """
    found = []
    kind = type(obj)
    try:
        claimed = obj.__class__
        if claimed is not kind:
            found.append(
                f"an object of type {kind.__qualname__[:60]} that claims to be a "
                f"{getattr(claimed, '__qualname__', '?')[:60]} (its __class__ is overridden)"
            )
        if "__eq__" in vars(kind) and (obj == object()) is True:
            found.append(
                f"an object of type {kind.__qualname__[:60]} that equals anything (__eq__)"
            )
    except BaseException:  # noqa: BLE001 - a hostile property must not break the reply
        found.append(f"an object of type {kind.__qualname__[:60]} that raises when inspected")
    return found


#: Modules whose functions must be the ones the grader ships, unpatched.
GUARDED_MODULES = ("grader.probes.kernel", "grader.probes.wire", "grader.probes.library")


def integrity_digests() -> dict[str, str]:
    """``module.name -> digest`` of the code of every guarded function and probe.

    The grader computes the same digests from its own copy and flags any difference: a
    replaced ``handle``, encoder or probe. Code running in the same process can defeat
    any such check (it could patch this function too); it is a tripwire for the
    instructor, not what verdicts rest on. See docs/security.md.
    """
    import sys

    digests = {}
    for module_name in GUARDED_MODULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name, value in list(vars(module).items()):
            code = getattr(value, "__code__", None)
            if code is not None:
                digests[f"{module_name}.{name}"] = code_digest(code)
    library = sys.modules.get("grader.probes.library")
    for name, func in list(getattr(library, "_PROBES", {}).items()):
        code = getattr(func, "__code__", None)
        digests[f"probe {name}"] = code_digest(code) if code is not None else "?"
    return digests


def code_digest(code: Any) -> str:
    """A digest of what a code object does, the same in every process.

    Not ``marshal.dumps``: its output depends on reference counts, so the same function
    hashes differently in the grader and the kernel. Frozenset constants are sorted,
    since their order follows the per-process string hash seed.
    """
    import hashlib

    def constant(value: Any) -> str:
        if hasattr(value, "co_code"):
            return code_digest(value)
        if isinstance(value, frozenset):
            return "frozenset(" + ",".join(sorted(constant(v) for v in value)) + ")"
        if isinstance(value, tuple):
            return "(" + ",".join(constant(v) for v in value) + ")"
        return repr(value)

    parts = [
        code.co_code.hex(),
        ",".join(code.co_names),
        ",".join(code.co_varnames),
        ",".join(constant(c) for c in code.co_consts),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _describe(exc: BaseException) -> dict[str, str]:
    """Name and message of a student exception; ``str()`` of it may itself raise."""
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not break the reply
        message = "<the exception's message could not be read>"
    try:
        trace = "".join(traceback.format_exception(exc)[-6:])
    except BaseException:  # noqa: BLE001
        trace = ""
    return {
        "type": type(exc).__name__[:100],
        "message": message[:MAX_MESSAGE],
        "traceback": trace[-MAX_MESSAGE:],
    }


def handle(request_json: str) -> None:
    """Serve one request and publish the reply as display data."""
    _publish(serve(request_json))


def _publish(reply: dict[str, Any]) -> None:
    """Send ``reply`` as display data on the kernel's IOPub channel, itself.

    Not through IPython's display publisher: that flushes stdout and stderr first, each
    flush a wait for the kernel's IOPub thread (half of what a request waited on in the
    kernel), and it hands the message to the hooks a notebook may have installed (one
    that dropped display data dropped every later reply). The grader reads no output of a
    request but its reply and errors.
    """
    from IPython import get_ipython

    kernel = get_ipython().kernel  # requests reach only ipykernel kernels
    content = {"data": {wire.REPLY_MIME: reply}, "metadata": {}, "transient": {}}
    kernel.session.send(
        kernel.iopub_socket,
        "display_data",
        content,
        parent=kernel.get_parent(),
        ident=b"display_data",
    )


def listen() -> None:
    """Take requests as comm messages on :data:`LINK_TARGET` from now on.

    Run before the notebook's first cell (``grader.bridge.LISTEN``); the comm the bridge
    then opens is acknowledged by :func:`_link_opened`. A comm message skips IPython's
    cell machinery: a request costs the kernel about half as much. The reply is the same
    display data. A kernel where this fails keeps serving executed statements.
    """
    from IPython import get_ipython

    get_ipython().kernel.comm_manager.register_target(LINK_TARGET, _link_opened)


def _link_opened(comm: Any, open_msg: dict[str, Any]) -> None:
    comm.on_msg(_on_request)
    token = open_msg.get("content", {}).get("data", {}).get("id")
    _publish({"id": token, "ok": True, "value": True})


def _on_request(msg: dict[str, Any]) -> None:
    """Serve one request that came as a comm message.

    No IPython execution surrounds a comm handler, so nothing else would turn an
    interrupt or a student's ``sys.exit()`` into an answer: it is answered here, as an
    error, and the kernel goes on.
    """
    data = msg.get("content", {}).get("data", {})
    request_json = data.get("request") if isinstance(data, dict) else None
    try:
        handle(request_json if isinstance(request_json, str) else "{}")
    except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt and SystemExit too
        _publish({"id": _request_id(request_json), "ok": False, "error": _describe(exc)})


def _request_id(request_json: Any) -> Any:
    try:
        return json.loads(request_json).get("id")
    except Exception:  # noqa: BLE001 - unreadable: the bridge reports a missing reply
        return None


def handle_file(path: str) -> None:
    """Serve a request the grader left in a file of the work folder (a large one).

    A statement carrying megabytes of arrays as a string literal costs IPython seconds to
    transform and compile; reading the same text from a file costs milliseconds.
    """
    with open(path, encoding="utf-8") as request_file:
        handle(request_file.read())


def serve(request_json: str) -> dict[str, Any]:
    """The reply to one request, as :func:`handle` publishes it.

    Also called directly by the in-notebook check (:mod:`grader.testing.local`), which
    serves the same requests in the student's own kernel without a display round trip.
    """
    request = json.loads(request_json)
    reply: dict[str, Any] = {"id": request.get("id")}
    notes: list[str] = []
    try:
        value = _dispatch(request)
        reply["value"] = _encode_result(value, request.get("result", "value"), notes)
        reply["ok"] = True
        if notes:
            reply["notes"] = notes[:10]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - any student failure becomes a reply
        reply = {"id": request.get("id"), "ok": False, "error": _describe(exc)}
    return reply
