"""``grader doctor`` reports what it measured, and what to install for what is missing."""

from __future__ import annotations

import json

from click.testing import CliRunner

from grader.cli import main


def doctor(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["doctor", "--json", "--no-frameworks", *args])
    return result.exit_code, json.loads(result.output)


def by_item(report: dict) -> dict[str, dict]:
    return {f"{f['area']}/{f['item']}": f for f in report["findings"]}


def test_no_engine_is_missing_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    code, report = doctor()
    engine = by_item(report)["docker runner/engine"]
    assert engine["status"] == "missing"
    assert "no Docker engine answers" in engine["detail"]
    assert "scripts/docker-engine.sh" in engine["fix"]
    assert code == 0, "the course runs kernels locally, so a missing engine does not block it"


def test_a_docker_course_without_an_engine_exits_1(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    course = tmp_path / "course"
    (course / "assignments").mkdir(parents=True)
    (course / "rubrics").mkdir()
    (course / "dlgrader.yaml").write_text("runner: docker\n")
    code, report = doctor("--course", str(course))
    assert report["runner"] == "docker"
    assert code == 1


def test_the_sandbox_and_datasets_are_reported(monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX", "none")
    _, report = doctor()
    findings = by_item(report)
    sandbox = findings["local runner/sandbox"]
    assert sandbox["status"] == "warning" and "bubblewrap" in sandbox["fix"]
    assert {"datasets/cifar10", "datasets/mnist"} <= set(findings)
