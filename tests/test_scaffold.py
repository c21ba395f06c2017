"""grader init, add and new: a course outside this repository, built from the bundle."""

import re

import nbformat
import pytest
import yaml
from test_cli import grader

from grader import bundled
from grader.authoring import has_markers, stub_text
from grader.config import CourseConfig
from grader.course import find_course
from grader.errors import ConfigError
from grader.scaffold.course_files import CI_FILES, course_yaml
from grader.scaffold.init import init_course
from grader.scaffold.labs import add_lab
from grader.scaffold.new import new_assignment
from grader.scaffold.templates import TEMPLATES


def uncommented(text: str) -> dict:
    """dlgrader.yaml with every setting switched on: '#key:' and '#  key:' lose their '#'."""
    lines = [ln[1:] if re.match(r"^#(\w|  \w)", ln) else ln for ln in text.splitlines()]
    return yaml.safe_load("\n".join(lines))


def test_course_yaml_has_every_setting_at_its_default():
    text = course_yaml()
    assert yaml.safe_load(text) is None, "every setting starts commented out"
    data = uncommented(text)
    assert set(data) == set(CourseConfig.model_fields)
    assert set(data["docker"]) == set(CourseConfig().docker.model_dump())
    assert CourseConfig.model_validate(data) == CourseConfig()
    for field in CourseConfig.model_fields.values():
        assert field.description.split()[0] in text


def test_init_writes_a_course(tmp_path):
    course = init_course(tmp_path / "c")
    root = course.root
    for name in ("assignments", "solutions", "rubrics", "submissions"):
        assert (root / name).is_dir()
    ignored = (root / ".gitignore").read_text()
    for pattern in ("grading-output/", "*.sqlite", "submissions/"):
        assert pattern in ignored.splitlines()
    workflow = yaml.safe_load((root / CI_FILES["github"]).read_text())
    steps = [s.get("run", "") for s in workflow["jobs"]["validate"]["steps"]]
    assert "grader assign --all --check" in steps and "grader validate --all" in steps
    assert course.assignment_names() == []


def test_init_can_write_gitlab_ci_instead(tmp_path):
    root = init_course(tmp_path / "c", ci="gitlab").root
    assert not (root / ".github").exists()
    job = yaml.safe_load((root / ".gitlab-ci.yml").read_text())["validate"]
    assert job["script"] == ["grader assign --all --check", "grader validate --all"]


def test_init_refuses_an_existing_course_and_writes_nothing(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "dlgrader.yaml").write_text("runner: local\n")
    with pytest.raises(ConfigError, match="dlgrader.yaml already exist"):
        init_course(tmp_path / "c")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["dlgrader.yaml"]
    with pytest.raises(ConfigError, match="no bundled lab nope"):
        init_course(tmp_path / "d", labs=["backprop", "nope"])
    assert not (tmp_path / "d").exists()


def test_init_with_labs_copies_them(tmp_path):
    course = init_course(tmp_path / "c", labs=["backprop", "neurons"])
    assert course.assignment_names() == ["backprop", "neurons"]


@pytest.mark.parametrize("name", ["backprop", "transfer"])
def test_add_copies_every_part_of_a_lab(tmp_path, name):
    course = init_course(tmp_path / "c")
    written = add_lab(course, name)
    source = bundled.labs_root()
    assignment = course.assignment(name)
    assert assignment.solution.read_bytes() == (source / f"solutions/{name}.ipynb").read_bytes()
    assert assignment.stub.is_file() and assignment.rubric.assignment == name
    assert any(assignment.test_files(public_only=True))
    assert len(assignment.test_files()) > len(assignment.test_files(public_only=True))
    examples = course.root / "examples" / "submissions" / name
    assert (examples / "EXPECTED.yaml").is_file()
    if (source / "assignments" / name / "data").is_dir():
        assert assignment.data_folder is not None
    assert not any("__pycache__" in p.parts for p in written)


def test_add_refuses_to_overwrite(tmp_path):
    course = init_course(tmp_path / "c")
    add_lab(course, "backprop")
    rubric = course.rubrics_dir / "backprop.yaml"
    rubric.write_text(rubric.read_text() + "# my change\n")
    with pytest.raises(ConfigError, match="already exist"):
        add_lab(course, "backprop")
    assert rubric.read_text().endswith("# my change\n")


def test_add_follows_the_course_folder_names(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "dlgrader.yaml").write_text("assignments: labs\nrubrics: marking\n")
    course = find_course(root)
    add_lab(course, "neurons")
    assert (root / "labs" / "neurons" / "assignment.yaml").is_file()
    assert (root / "marking" / "neurons.yaml").is_file()


@pytest.mark.parametrize("framework", sorted(TEMPLATES))
def test_new_writes_a_complete_assignment(tmp_path, framework):
    course = init_course(tmp_path / "c")
    written = new_assignment(course, "mylab", framework)
    assignment = course.assignment("mylab")
    solution = nbformat.read(assignment.solution, as_version=4)
    assert has_markers(solution)
    tags = [c.metadata.get("tags", []) for c in solution.cells]
    assert ["parameters"] in tags
    assert any("The interface" in c.source for c in solution.cells if c.cell_type == "markdown")
    assert assignment.stub.read_text() == stub_text(assignment.solution, "mylab")
    rubric = assignment.rubric  # loads: every test it names exists
    assert rubric.max_points == sum(c.points for c in rubric.criteria)
    public = assignment.test_files(public_only=True)
    hidden = [f for f in assignment.test_files() if f not in public]
    assert len(public) == 1 and len(hidden) == 1
    for test_file in public + hidden:
        source = test_file.read_text()
        assert "(nb)" in source and "from grader.checks import" in source or framework == "numpy"
    assert "from grader.checks import" in hidden[0].read_text()
    for path in written:
        assert "Next step" in path.read_text() or "next step" in path.read_text(), path


def test_new_refuses_a_bad_name_or_an_existing_assignment(tmp_path):
    course = init_course(tmp_path / "c")
    with pytest.raises(ConfigError, match="not an assignment name"):
        new_assignment(course, "My-Lab", "numpy")
    add_lab(course, "backprop")
    with pytest.raises(ConfigError, match="already exist"):
        new_assignment(course, "backprop", "numpy")


@pytest.mark.slow
def test_init_add_new_validate_from_the_command_line(tmp_path):
    done = grader("init", "c", "--labs", "neurons", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    course = tmp_path / "c"
    done = grader("add", "neurons", cwd=course)
    assert done.returncode == 2 and "already exist" in done.stderr
    assert len([ln for ln in done.stderr.splitlines() if ln.startswith("error:")]) == 1
    done = grader("new", "mylab", "--framework", "numpy", cwd=course)
    assert done.returncode == 0, done.stderr
    done = grader("validate", "mylab", cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "solution full marks" in done.stderr
    done = grader("assign", "--all", "--check", cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr


def test_add_list_names_every_bundled_lab(tmp_path):
    done = grader("add", "--list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
    assert listed == bundled.lab_names()
