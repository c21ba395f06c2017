"""bench/gpu_proof.sh's CPU-side behaviour: without a GPU it stops cleanly, with one line.

The proof itself needs a GPU machine (issue 22); what can be shown anywhere is that the
script stops at once, says why in one line, exits 0 and leaves nothing half-written (no
tables, docs/benchmarks.md untouched), that it refuses to start without its wheels, and
that ``bench/gpu_wheels.sh --check`` judges a wheel folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu_proof.sh"
WHEELS = ROOT / "bench" / "gpu_wheels.sh"


def _bash(script: Path, *args: str, env: dict[str, str], timeout: int = 120):
    return subprocess.run(
        ["bash", str(script), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _proof_module(name: str = "gpu_proof"):
    """bench/NAME.py loaded as a bench script sees its siblings (bench/ on the path)."""
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_without_a_gpu_the_proof_stops_with_one_clear_line(tmp_path):
    docs = ROOT / "docs" / "benchmarks.md"
    before = _digest(docs)
    out = tmp_path / "out"
    done = _bash(
        SCRIPT,
        env={
            "OUT": str(out),
            "GPU_PROOF_SKIP_INSTALL": "1",
            "GPU_PROOF_PYTHON": sys.executable,
            # Hidden from PyTorch, so a GPU machine takes this path too.
            "CUDA_VISIBLE_DEVICES": "",
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if "no GPU" in line]
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith("gpu_proof: no GPU here (")
    assert "nothing measured" in lines[0]
    assert "gpu_proof: sandbox " in done.stdout
    # Nothing half-written: the short report says why, and no tables or numbers exist.
    assert sorted(p.name for p in out.iterdir()) == ["gpu_proof.log", "gpu_proof.md"]
    report = (out / "gpu_proof.md").read_text(encoding="utf-8")
    assert lines[0] in report and "|" not in report
    assert _digest(docs) == before


def test_without_its_wheels_the_proof_refuses_to_start(tmp_path):
    done = _bash(
        SCRIPT,
        env={"OUT": str(tmp_path / "out"), "GPU_PROOF_WHEELS": str(tmp_path / "no-wheels")},
    )
    assert done.returncode == 3
    assert "gpu_proof: no " in done.stdout and "bench/gpu_wheels.sh" in done.stdout


def test_wheel_check_skips_an_absent_folder_and_names_what_is_missing(tmp_path):
    absent = _bash(WHEELS, "--check", env={"GPU_WHEELS_DIR": str(tmp_path / "none")})
    assert absent.returncode == 0
    assert "nothing to check" in absent.stdout

    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "nbformat-5.11.1-py3-none-any.whl").write_bytes(b"")
    (partial / "pyzmq-27.3.0-cp312-abi3-manylinux_2_28_x86_64.whl").write_bytes(b"")
    (partial / "tornado-6.6.1-cp311-abi3-manylinux1_x86_64.whl").write_bytes(b"")
    (partial / "tornado-6.5.0-cp311-abi3-manylinux1_x86_64.whl").write_bytes(b"")
    (partial / "psutil-7.2.2-cp36-abi3-win_amd64.whl").write_bytes(b"")
    done = _bash(WHEELS, "--check", env={"GPU_WHEELS_DIR": str(partial)})
    assert done.returncode == 1
    assert "missing nbclient==0.11.0" in done.stdout
    assert "missing dlgrader==0.1.0" in done.stdout
    assert "differs from the checkout" not in done.stdout
    assert "2 wheels of tornado" in done.stdout
    assert "psutil has no cp312 (or abi3) manylinux x86_64 wheel" in done.stdout
    assert "missing nbformat" not in done.stdout and "missing pyzmq" not in done.stdout
    assert "incomplete" in done.stdout.splitlines()[-1]


def test_wheel_check_names_a_dlgrader_wheel_older_than_the_checkout(tmp_path):
    folder = tmp_path / "wheels"
    folder.mkdir()
    with zipfile.ZipFile(folder / "dlgrader-0.1.0-py3-none-any.whl", "w") as whl:
        whl.writestr("grader/__init__.py", "# an older grader\n")
    done = _bash(WHEELS, "--check", env={"GPU_WHEELS_DIR": str(folder)})
    assert done.returncode == 1
    assert "the dlgrader wheel differs from the checkout's grader/" in done.stdout
    assert "rerun bash bench/gpu_wheels.sh" in done.stdout


def test_the_wheel_folder_if_fetched_is_complete_and_small():
    if not (ROOT / ".whl").is_dir():
        pytest.skip(".whl/ not fetched here (bash bench/gpu_wheels.sh)")
    done = _bash(WHEELS, "--check", env={})
    assert done.returncode == 0, done.stdout
    assert "complete" in done.stdout


def test_lenet5_cpu_only_notebook_hard_codes_the_cpu(tmp_path):
    proof = _proof_module("gpu_proof_criteria")
    target = tmp_path / "zed_hard_coded_cpu.ipynb"
    proof.cpu_only_lenet5(target)
    source = "\n".join(c.source for c in nbformat.read(target, as_version=4).cells)
    assert 'return torch.device("cpu")' in source
    assert "torch.cuda.is_available()" not in source
    # The CPU-only notebooks the proof names exist (cnn_gpu's) or are made (lenet5's).
    assert (ROOT / "examples/submissions/cnn_gpu/dave_hard_coded_cpu.ipynb").exists()
    assert proof.CPU_ONLY["lenet5"] == ["zed_hard_coded_cpu"]
    ids = proof.criteria_folder("lenet5", tmp_path / "few", few=True)
    assert ids == ["alice_correct", "reference_solution", "zed_hard_coded_cpu"]


def test_record_refuses_a_report_without_measurements(tmp_path, capsys):
    proof = _proof_module()
    empty = tmp_path / "gpu_proof.md"
    empty.write_text("## GPU proof (issue 22)\n\ngpu_proof: no GPU here (none).\n")
    assert proof.record(empty) == 1
    assert "docs/benchmarks.md untouched" in capsys.readouterr().out
