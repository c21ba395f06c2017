"""Finding a course: --course, GRADER_COURSE, walking up, and dlgrader.yaml renames."""

import shutil
from pathlib import Path

import pytest

from grader.course import find_course
from grader.errors import ConfigError

TOY = Path(__file__).parent / "fixtures" / "toy_course"


def test_found_by_walking_up_from_a_subfolder():
    course = find_course(start=TOY / "assignments" / "toy" / "tests")
    assert course.root == TOY.resolve() and course.assignment_names() == ["toy"]


def test_environment_variable(monkeypatch):
    monkeypatch.setenv("GRADER_COURSE", str(TOY))
    assert find_course(start=Path("/")).root == TOY.resolve()


def test_course_file_renames_folders(tmp_path):
    root = tmp_path / "my-course"
    shutil.copytree(TOY / "assignments", root / "labs")
    shutil.copytree(TOY / "rubrics", root / "marking")
    shutil.copytree(TOY / "solutions", root / "answers")
    (root / "dlgrader.yaml").write_text("assignments: labs\nrubrics: marking\nsolutions: answers\n")
    assignment = find_course(start=root / "labs").assignment("toy")
    assert assignment.solution == root / "answers" / "toy.ipynb"
    assert assignment.rubric.max_points == 10


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="no course found"):
        find_course(start=tmp_path)
    (tmp_path / "dlgrader.yaml").write_text("assignmets: x\n")
    with pytest.raises(ConfigError, match="dlgrader.yaml"):
        find_course(start=tmp_path)
    shutil.copytree(TOY / "assignments", tmp_path / "c" / "assignments")
    (tmp_path / "c" / "rubrics").mkdir()
    bad = tmp_path / "c" / "assignments" / "toy" / "assignment.yaml"
    bad.write_text(bad.read_text().replace("memory_mb: 2048", "memory_mb: 12"))
    with pytest.raises(ConfigError, match="memory_mb"):
        find_course(start=tmp_path / "c").assignment("toy")
