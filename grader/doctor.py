"""What this machine offers for grading, and what to install for what is missing.

Each finding is a fact measured now (a tool found, an engine that answered, a GPU a
framework can use), never a guess from configuration. Framework GPU checks run in a
subprocess with a deadline, so a broken CUDA install cannot hang or crash the doctor.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Literal

from grader import __version__

Status = Literal["ok", "missing", "warning", "info"]

FRAMEWORK_PROBE = r"""
import json, os, warnings
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
warnings.filterwarnings("ignore")
found = {}
try:
    import torch
    found["torch"] = {"version": torch.__version__, "gpus": torch.cuda.device_count()
                      if torch.cuda.is_available() else 0}
except Exception as exc:
    found["torch"] = {"error": type(exc).__name__ + ": " + str(exc)[:120]}
try:
    import tensorflow as tf
    found["tensorflow"] = {"version": tf.__version__,
                           "gpus": len(tf.config.list_physical_devices("GPU"))}
except Exception as exc:
    found["tensorflow"] = {"error": type(exc).__name__ + ": " + str(exc)[:120]}
print(json.dumps(found))
"""


@dataclass
class Finding:
    area: str
    item: str
    status: Status
    detail: str
    fix: str = ""


def examine(frameworks: bool = True) -> list[Finding]:
    """Every finding, in the order a person would read them."""
    findings = [
        Finding(
            "grader",
            "dlgrader",
            "info",
            f"{__version__} on Python {platform.python_version()}, "
            f"{os.cpu_count()} CPU core(s), {_memory_gib():.0f} GiB memory",
        )
    ]
    findings += sandbox_findings()
    findings += docker_findings()
    findings += gpu_findings(frameworks)
    findings += dataset_findings()
    return findings


def sandbox_findings() -> list[Finding]:
    from grader.runners.local import cgroups_writable, detect_sandbox

    sandbox = detect_sandbox()
    found = [
        Finding(
            "local runner",
            "sandbox",
            "ok" if sandbox == "bubblewrap" else "warning",
            f"{sandbox}"
            + {
                "bubblewrap": ": private filesystem, no network, rlimits",
                "unshare": ": no network, but the filesystem is visible",
                "none": ": student code would run unconfined",
            }[sandbox],
            "" if sandbox == "bubblewrap" else "install bubblewrap (apt install bubblewrap)",
        )
    ]
    cgroups = cgroups_writable()
    found.append(
        Finding(
            "local runner",
            "cgroups",
            "ok" if cgroups else "warning",
            "writable: memory and process limits per kernel"
            if cgroups
            else "not writable: no process limit, memory only through RLIMIT_AS",
            "" if cgroups else "run the grader as root, or use --runner docker",
        )
    )
    return found


def docker_findings() -> list[Finding]:
    from grader.runners.base import RunnerUnavailable
    from grader.runners.docker import DockerRunner, connect
    from grader.runners.docker_image import image_tag

    try:
        client = connect()
    except RunnerUnavailable as exc:
        client_tool = shutil.which("docker")
        return [
            Finding(
                "docker runner",
                "engine",
                "missing",
                str(exc).split(";")[0] + (f" (client at {client_tool})" if client_tool else ""),
                "as root: bash scripts/docker-engine.sh (installs docker.io, starts dockerd)",
            )
        ]
    version = client.version()
    info = client.info()
    found = [
        Finding(
            "docker runner",
            "engine",
            "ok",
            f"Docker {version.get('Version', '?')} (API {version.get('ApiVersion', '?')}), "
            f"{info.get('Driver', '?')} storage, cgroup v{info.get('CgroupVersion', '?')}",
        )
    ]
    runtimes = sorted(info.get("Runtimes", {}))
    has_nvidia = "nvidia" in runtimes or bool(info.get("CDISpecDirs")) and _nvidia_cdi()
    found.append(
        Finding(
            "docker runner",
            "GPUs for containers",
            "ok" if has_nvidia else "info",
            "the NVIDIA runtime is registered"
            if has_nvidia
            else f"no NVIDIA runtime (runtimes: {', '.join(runtimes)}): containers get no GPU",
            ""
            if has_nvidia
            else "on a GPU host: install the NVIDIA container toolkit "
            "and run `nvidia-ctk runtime configure --runtime=docker`",
        )
    )
    for kind in ("cpu", "gpu"):
        runner = DockerRunner()
        runner.image = image_tag(kind)
        try:
            runner.check()
            found.append(Finding("docker runner", f"{kind} image", "ok", f"{runner.image}"))
        except RunnerUnavailable as exc:
            status: Status = "missing" if kind == "cpu" else "info"
            found.append(
                Finding(
                    "docker runner",
                    f"{kind} image",
                    status,
                    str(exc).split(";")[0],
                    f"bash docker/build.sh {kind}",
                )
            )
    return found


def gpu_findings(frameworks: bool) -> list[Finding]:
    from grader.runners.gpu_slots import host_gpus

    gpus = host_gpus()
    smi = shutil.which("nvidia-smi")
    detail = f"{len(gpus)} NVIDIA device(s) in /dev" if gpus else "no NVIDIA device in /dev"
    if gpus and smi:
        names = _run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader"])
        detail += f": {names.strip().replace(chr(10), '; ')}" if names else ""
    found = [Finding("GPU", "host", "ok" if gpus else "info", detail)]
    if not frameworks:
        return found
    probe = _run([sys.executable, "-c", FRAMEWORK_PROBE], timeout=120)
    import json

    try:
        seen = json.loads(probe.strip().splitlines()[-1]) if probe.strip() else {}
    except ValueError:
        seen = {}
    for name in ("torch", "tensorflow"):
        entry = seen.get(name)
        if not entry:
            found.append(Finding("GPU", name, "warning", "the check did not finish"))
        elif "error" in entry:
            found.append(Finding("GPU", name, "missing", f"not importable: {entry['error']}"))
        else:
            gpu_count = entry["gpus"]
            status: Status = "ok" if gpu_count or not gpus else "warning"
            fix = ""
            if gpus and not gpu_count:
                fix = (
                    "install the CUDA build of "
                    + name
                    + " (see docker/requirements-kernel-gpu.txt)"
                )
            found.append(
                Finding("GPU", name, status, f"{entry['version']}, sees {gpu_count} GPU(s)", fix)
            )
    return found


def dataset_findings() -> list[Finding]:
    from grader import datasets

    found = []
    for line in datasets.describe().splitlines():
        name, _, rest = line.partition(": ")
        if name == "searched":
            found.append(Finding("datasets", "cache folders", "info", rest))
        elif rest.startswith("full"):
            found.append(Finding("datasets", name, "ok", rest))
        else:
            tier, _, how = rest.partition(". ")
            found.append(Finding("datasets", name, "info", tier, how.rstrip(".")))
    return found


def as_dicts(findings: list[Finding]) -> list[dict[str, str]]:
    return [asdict(f) for f in findings]


def _nvidia_cdi() -> bool:
    return any(os.path.exists(p) for p in ("/etc/cdi/nvidia.yaml", "/var/run/cdi/nvidia.yaml"))


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


def _run(argv: list[str], timeout: float = 20) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout
