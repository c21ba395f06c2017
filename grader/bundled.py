"""Where the files that ship with the grader are: report templates and the bundled labs.

Two places, one answer. An installed wheel carries them inside the package (``setup.py``
copies them in at build time): ``grader/templates/`` and ``grader/labs/``, the latter laid
out like a course (``assignments/``, ``solutions/``, ``rubrics/``,
``examples/submissions/``). A checkout of the repository (an editable install) has no such
copies: there they are the repository's own top-level folders, so an edit is seen at once.
"""

from __future__ import annotations

from pathlib import Path

from grader.errors import ConfigError

PACKAGE = Path(__file__).resolve().parent
#: The repository root when the package runs from a checkout.
CHECKOUT = PACKAGE.parent
#: The course-shaped folders a lab is made of, as the bundle and the repository hold them.
LAB_PARTS = ("assignments", "solutions", "rubrics", "examples")
#: Bundled folder names (inside the package) for the parts copied in by ``setup.py``.
BUNDLED_TEMPLATES = "templates"
BUNDLED_LABS = "labs"


def templates_dir() -> Path:
    """The grader's own report templates (a course's ``templates/`` overrides them)."""
    for folder in (PACKAGE / BUNDLED_TEMPLATES, CHECKOUT / "templates"):
        if (folder / "report.html.j2").is_file():
            return folder
    raise ConfigError(
        f"the report templates are missing: neither {PACKAGE / BUNDLED_TEMPLATES} (an "
        f"installed wheel) nor {CHECKOUT / 'templates'} (a checkout) has them; reinstall "
        "dlgrader or restore templates/ from the repository"
    )


def labs_root() -> Path:
    """A course-shaped folder holding the bundled labs: the package's copy, or the checkout."""
    for folder in (PACKAGE / BUNDLED_LABS, CHECKOUT):
        if (folder / "assignments").is_dir() and (folder / "rubrics").is_dir():
            return folder
    raise ConfigError(
        f"the bundled labs are missing: neither {PACKAGE / BUNDLED_LABS} nor "
        f"{CHECKOUT / 'assignments'} exists; reinstall dlgrader"
    )


def lab_names() -> list[str]:
    """The bundled labs, by name."""
    folder = labs_root() / "assignments"
    return sorted(p.name for p in folder.iterdir() if (p / "assignment.yaml").is_file())
