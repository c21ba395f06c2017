"""One core or two: every example of every lab gets the same verdict (issue 16).

Runs ``grader grade X`` and ``taskset -c 0 grader grade X`` side by side for each lab's
reference solution and example submissions, and compares every criterion's status and
points. Kernels pin their own thread count (``numerics.threads``), so the host's core
count must not show in any verdict.

    python bench/same_on_one_core.py lenet5 backprop
    python bench/same_on_one_core.py --all --write     # docs/calibration.md, section cores
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import EXAMPLES, ROOT, chosen_labs, machine, write_section

CALIBRATION = ROOT / "docs" / "calibration.md"
GRADER = [sys.executable, "-c", "from grader.cli import run; run()"]


def verdict(results: Path) -> dict[str, tuple[str, float]]:
    data = json.loads(results.read_text(encoding="utf-8"))
    return {c["id"]: (c["status"], c["points"]) for c in data["criteria"]}


def grade_both(lab: str, notebook: Path, scratch: Path) -> tuple[dict, dict]:
    """Grade ``notebook`` unrestricted and on core 0 at the same time; both verdicts."""
    runs = {}
    for label, prefix in (("any", []), ("core0", ["taskset", "-c", "0"])):
        out = scratch / label / notebook.stem
        argv = [*prefix, *GRADER, "grade", str(notebook), "-a", lab, "--course", str(ROOT)]
        runs[label] = (
            out,
            subprocess.Popen(
                [*argv, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ),
        )
    for _, process in runs.values():
        process.wait()
    return verdict(runs["any"][0] / "results.json"), verdict(runs["core0"][0] / "results.json")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if shutil.which("taskset") is None:
        parser.error("taskset (util-linux) is not installed")
    labs = chosen_labs(args.labs, args.all)
    rows, differing = [], 0
    with tempfile.TemporaryDirectory(prefix="dlgrader-cores-") as folder:
        for lab in labs:
            notebooks = [ROOT / "solutions" / f"{lab}.ipynb"]
            notebooks += sorted((EXAMPLES / lab).glob("*.ipynb"))
            same = 0
            for notebook in notebooks:
                anywhere, one_core = grade_both(lab, notebook, Path(folder))
                if anywhere == one_core:
                    same += 1
                else:
                    differing += 1
                    diff = {k: (anywhere.get(k), one_core.get(k)) for k in anywhere}
                    print(f"{lab} {notebook.stem}: DIFFERS {diff}")
            rows.append(f"| {lab} | {len(notebooks)} | {same} |")
            print(rows[-1])
    report = (
        f"**Machine:** {machine()}. `grader grade X` against `taskset -c 0 grader grade X`, "
        "every criterion's status and points compared.\n\n"
        "| lab | notebooks | identical verdicts |\n|---|---|---|\n" + "\n".join(rows)
    )
    print(report)
    if args.write:
        write_section("cores", report, CALIBRATION)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
