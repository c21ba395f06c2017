"""The GPU proof's phase 4: lenet5's and cnn_gpu's notebooks graded on the GPU.

Correct notebooks must pass ``gpu_training`` with full marks, CPU-only ones must fail it
and the device criterion; see bench/gpu_proof.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from gpu_proof_report import ROOT, Report, run_logged

#: Per assignment: the criterion that says whether get_device follows the machine.
DEVICE_CRITERION = {"lenet5": "get_device", "cnn_gpu": "device_choice"}
#: CPU-only notebooks: these must fail `gpu_training` and the device criterion on a GPU.
CPU_ONLY = {"lenet5": ["zed_hard_coded_cpu"], "cnn_gpu": ["dave_hard_coded_cpu"]}
LENET5_ALICE = ROOT / "examples" / "submissions" / "lenet5" / "alice_correct.ipynb"
GOOD_DEVICE = 'torch.device(\\"cuda\\" if torch.cuda.is_available() else \\"cpu\\")'
CPU_DEVICE = 'torch.device(\\"cpu\\")  # no GPU on my laptop'


def cpu_only_lenet5(target: Path) -> None:
    """lenet5's alice with get_device hard-coded to the CPU, as cnn_gpu's Dave has it."""
    text = LENET5_ALICE.read_text(encoding="utf-8")
    if GOOD_DEVICE not in text:
        raise RuntimeError("lenet5 alice_correct's get_device changed: update GOOD_DEVICE")
    target.write_text(text.replace(GOOD_DEVICE, CPU_DEVICE), encoding="utf-8")


def criteria_folder(assignment: str, folder: Path, few: bool) -> list[str]:
    """Solution, examples (and the derived CPU-only notebook) in ``folder``; their ids.

    ``few``: only alice and the CPU-only notebook beside the solution (a quick trial).
    """
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "solutions" / f"{assignment}.ipynb", folder / "reference_solution.ipynb")
    examples = sorted((ROOT / "examples" / "submissions" / assignment).glob("*.ipynb"))
    keep = set(CPU_ONLY[assignment]) | {"alice_correct"}
    if few:
        examples = [p for p in examples if p.stem in keep]
    for path in examples:
        shutil.copy(path, folder / path.name)
    if assignment == "lenet5":
        cpu_only_lenet5(folder / "zed_hard_coded_cpu.ipynb")
    return sorted(p.stem for p in folder.glob("*.ipynb"))


def expected(assignment: str) -> dict:
    import yaml

    path = ROOT / "examples" / "submissions" / assignment / "EXPECTED.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]


def grade_folder(report: Report, assignment: str, folder: Path, out: Path, workers: int) -> float:
    argv = [sys.executable, "-c", "from grader.cli import run; run()", "batch", str(folder)]
    argv += ["-a", assignment, "--course", str(ROOT), "-o", str(out), "--workers", str(workers)]
    started = time.perf_counter()
    code, output = run_logged(report, argv, timeout=400, cwd=ROOT)
    if code != 0:
        report.fail(f"grader batch {assignment} exited {code}: {output.strip()[-300:]}")
    return time.perf_counter() - started


def outcome(result: dict, criterion: str) -> str:
    for c in result.get("criteria", []):
        if c["id"] == criterion:
            return c["status"] + (" (pending)" if c.get("pending") else "")
    return "-"


def criteria(report: Report, work: Path, few: bool, gpu: bool) -> None:
    from benchlib import table

    rows, data = [], {}
    for assignment in ("lenet5", "cnn_gpu"):
        folder = work / f"criteria-{assignment}"
        ids = criteria_folder(assignment, folder, few)
        workers = min(8, len(ids), max(1, (os.cpu_count() or 2) // 2))
        report.say(f"gpu_proof: grading {len(ids)} {assignment} notebooks, {workers} at once")
        seconds = grade_folder(report, assignment, folder, work / f"out-{assignment}", workers)
        report.say(f"gpu_proof: {assignment} graded in {seconds:.0f} s")
        examples = expected(assignment)
        device_id = DEVICE_CRITERION[assignment]
        for student in ids:
            path = work / f"out-{assignment}" / student / "results.json"
            if not path.exists():
                report.fail(f"{assignment}/{student}: no results.json")
                rows.append([assignment, student, "-", "-", "-", "no result", "**no**"])
                continue
            result = json.loads(path.read_text(encoding="utf-8"))
            score = result["score"]
            gpu_outcome = outcome(result, "gpu_training")
            device_outcome = outcome(result, device_id)
            failed = sorted(
                c["id"]
                for c in result["criteria"]
                if c["status"] not in ("passed",) and c["id"] != "gpu_training"
            )
            entry = examples.get(student, {"must_fail": [], "may_also_fail": []})
            correct = student == "reference_solution" or (
                student in examples and not entry["must_fail"] and not entry["may_also_fail"]
            )
            if student in CPU_ONLY[assignment]:
                wanted = f"gpu_training and {device_id} fail"
                ok = gpu_outcome.startswith("failed") and device_outcome.startswith("failed")
                checked = True
            elif correct:
                wanted = "gpu_training passes, full marks"
                ok = gpu_outcome == "passed" and score["points"] == score["max_points"]
                checked = True
            else:
                must = set(entry["must_fail"])
                may = must | set(entry["may_also_fail"])
                wanted = "as EXPECTED.yaml: " + (", ".join(sorted(must)) or "nothing") + " fail"
                others = set(failed) - {device_id}
                ok = must <= set(failed) and others <= may
                checked = False
            if checked and gpu and not ok:
                report.fail(f"{assignment}/{student}: wanted {wanted}; got gpu_training "
                            f"{gpu_outcome}, {device_id} {device_outcome}")  # fmt: skip
            verdict = ("yes" if ok else "**no**") + ("" if checked else " (not a GPU check)")
            rows.append(
                [
                    assignment,
                    student,
                    f"{score['points']:g}/{score['max_points']:g}",
                    gpu_outcome,
                    f"{device_id}: {device_outcome}",
                    wanted,
                    verdict,
                ]
            )
            data[f"{assignment}/{student}"] = {
                "score": score,
                "gpu_training": gpu_outcome,
                device_id: device_outcome,
                "failed": failed,
                "gpu_available": result.get("environment", {}).get("gpu_available"),
                "sandbox": result.get("environment", {}).get("sandbox"),
                "device": result.get("environment", {}).get("device"),
                "ok": ok,
            }
    report.data["criteria"] = data
    seen = sorted(
        {f"sandbox `{d['sandbox']}`, GPU available: {d['gpu_available']}" for d in data.values()}
    )
    report.section(
        "criteria",
        "\n".join(
            [
                "### GPU criteria: correct notebooks pass, CPU-only ones fail",
                "",
                "Each notebook graded by `grader batch` on the GPU. `zed_hard_coded_cpu` is "
                "lenet5's `alice_correct` with `get_device` returning `torch.device('cpu')` "
                "(made by bench/gpu_proof.py: lenet5 has no such example); cnn_gpu's "
                "`dave_hard_coded_cpu` is its own example. Rows marked *not a GPU check* are "
                "the other examples against their EXPECTED.yaml (written for a CPU). "
                f"As the results record it: {'; '.join(seen) or 'no results'}.",
                "",
                table(
                    [
                        "lab",
                        "notebook",
                        "score",
                        "gpu_training",
                        "device criterion",
                        "wanted",
                        "as wanted",
                    ],
                    rows,
                ),
            ]
        ),
    )
