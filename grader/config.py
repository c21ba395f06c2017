"""Declarative configuration: an assignment's ``assignment.yaml`` and its limits.

Every default lives here and nowhere else. Models forbid unknown keys so that a
typo in a course author's YAML is an error that names the key, not a silently
ignored setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Framework = Literal["pytorch", "keras", "tensorflow", "numpy"]
#: A module's dotted name, as ``import`` takes it.
ModuleName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")]
#: What a batch worker's waiting kernel imports for each framework (``warm_imports``
#: overrides it). TensorFlow brings Keras with it; every lab plots with pyplot.
FRAMEWORK_IMPORTS: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy", "matplotlib.pyplot"),
    "pytorch": ("torch", "matplotlib.pyplot"),
    "keras": ("tensorflow", "matplotlib.pyplot"),
    "tensorflow": ("tensorflow", "matplotlib.pyplot"),
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(Strict):
    """Resource limits for one submission's kernel."""

    cell_timeout: float = Field(120.0, gt=0, description="Seconds one notebook cell may run.")
    notebook_timeout: float = Field(600.0, gt=0, description="Seconds the whole notebook may run.")
    request_timeout: float = Field(
        60.0, gt=0, description="Seconds one test request (call, probe) may run in the kernel."
    )
    memory_mb: int = Field(
        8192,
        ge=256,
        description="Memory limit of the kernel in MiB (RLIMIT_AS; a cgroup where writable).",
    )
    cpu_seconds: int | None = Field(
        None,
        gt=0,
        description="CPU-time limit of the kernel in seconds; default: 2x notebook_timeout "
        "+ 30 s (CPU time counts every thread).",
    )
    network: bool = Field(False, description="Allow network access from the kernel.")
    processes: int = Field(
        512,
        ge=32,
        description="Most processes and threads the kernel may have at once (a pids cgroup).",
    )
    disk_mb: int = Field(
        2048,
        ge=64,
        description="Space in MiB for files the notebook writes: its working folder, and /tmp.",
    )

    def effective_cpu_seconds(self) -> int:
        """CPU time counts every thread, so the default leaves room for two cores."""
        if self.cpu_seconds is not None:
            return self.cpu_seconds
        return int(2 * self.notebook_timeout) + 30


#: Instruction-set levels a kernel's numeric code may use: ``avx2`` pins every library to
#: AVX2 code paths (every x86-64 grading machine since 2013 has them), ``avx512`` allows
#: AVX-512 where the CPU has it, ``native`` leaves each library to pick.
IsaLevel = Literal["avx2", "avx512", "native"]


class Numerics(Strict):
    """How the kernel computes: the same notebook gets the same numbers on any machine.

    Floating-point results depend on the instruction set a library picks at run time
    (AVX2 or AVX-512 kernels round differently), on how many threads split a reduction,
    and on unseeded random generators. Grading fixes all three, so a verdict does not
    depend on the CPU vendor or the core count (`docs/calibration.md`).
    """

    seed: int = Field(
        0,
        ge=0,
        lt=2**31,
        description="Seeds Python's `random`, NumPy, torch and TensorFlow before the first "
        "cell, and `PYTHONHASHSEED` (set iteration order). A notebook that seeds itself "
        "overrides it from that cell on.",
    )
    threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Threads of torch, TensorFlow, OpenMP, MKL and OpenBLAS in the kernel. "
        "Fixed rather than the host's core count, since a reduction split over more threads "
        "rounds differently; the Docker runner lowers it to its CPU quota.",
    )
    isa: IsaLevel = Field(
        "avx2",
        description="Instruction-set level of torch (`ATEN_CPU_CAPABILITY`), oneDNN "
        "(`ONEDNN_MAX_CPU_ISA`), MKL (`MKL_CBWR`) and OpenBLAS (`OPENBLAS_CORETYPE`). "
        "`avx2` gives the same numbers on every x86-64 machine; on a CPU without AVX2 the "
        "libraries keep their own choice, and the report says so.",
    )
    tf_onednn: bool | None = Field(
        None,
        description="TensorFlow's oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS`): on, off, or "
        "TensorFlow's default (on for x86-64).",
    )


class InterfaceName(Strict):
    """One name of a lab's declared interface: what tests may rely on, and nothing else."""

    name: str = Field(pattern=r"^[A-Za-z_]\w*$", description="The Python name.")
    signature: str = Field(
        "", description="How it is called or what it holds, e.g. `train(X, Y, lr) -> losses`."
    )
    description: str = Field("", description="What it does, in the stub's words.")
    default: Any = Field(
        None,
        description="Optional names only: the value tests use when the notebook does not "
        "define or use the name (a hyperparameter the student hard-coded, say).",
    )


class Interface(Strict):
    """The names a lab's tests may rely on (issue 16): required, or optional with a default.

    A test that needs an optional name the notebook lacks uses the default and says so in
    its detail, instead of failing; a missing required name fails, naming it.
    """

    required: list[InterfaceName] = Field(
        default_factory=list, description="Names every submission must define."
    )
    optional: list[InterfaceName] = Field(
        default_factory=list,
        description="Names a submission may define; tests fall back to their `default`.",
    )

    def defaults(self) -> dict[str, Any]:
        """Each optional name's default, for the tests (``nb.setting``)."""
        return {entry.name: entry.default for entry in self.optional}

    def names(self) -> list[str]:
        return [entry.name for entry in [*self.required, *self.optional]]

    @field_validator("optional")
    @classmethod
    def _distinct(cls, value: list[InterfaceName], info: Any) -> list[InterfaceName]:
        required = {entry.name for entry in info.data.get("required", [])}
        if both := required & {entry.name for entry in value}:
            raise ValueError(f"{sorted(both)} cannot be both required and optional")
        return value


class Recovery(Strict):
    """What grading does when a cell kills the kernel or will not stop when interrupted.

    A person grading by hand would run the notebook again without that cell: the
    functions defined before it are still the student's work. The replays are bounded,
    so a notebook that kills every kernel costs bounded time.
    """

    replays: int = Field(
        2,
        ge=0,
        le=2,
        description="Fresh kernels to run the notebook again in, each time without the cell "
        "that stopped the last one (0 turns recovery off).",
    )
    after_fatal_cell: Literal["run", "skip"] = Field(
        "run",
        description="Whether a replay runs the cells after the skipped one (`run`) or leaves "
        "them out too (`skip`).",
    )


class AssignmentConfig(Strict):
    """The contents of ``assignments/<name>/assignment.yaml``."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="The assignment's name: its folder under `assignments/`, its rubric "
        "`rubrics/NAME.yaml`, its solution `solutions/NAME.ipynb`.",
    )
    title: str = Field(description="Shown in reports, the class summary, exports and the release.")
    framework: Framework = Field(
        description="What the notebook is written with. It decides what a batch worker's "
        "waiting kernel imports ahead of time (see `warm_imports`); the checks ask the kernel "
        "themselves whether a model is PyTorch or Keras."
    )
    warm_imports: list[ModuleName] | None = Field(
        None,
        description="Modules a batch worker's next kernel imports while it waits for its "
        "submission, so the import is not on that grading's clock. It is a silent execution "
        "that binds no name in the notebook. Default: the framework's modules (numpy: numpy "
        "and matplotlib.pyplot; pytorch: torch and matplotlib.pyplot; keras and tensorflow: "
        "tensorflow and matplotlib.pyplot). `[]` turns it off, for a notebook that must set "
        "environment variables (say `KERAS_BACKEND`) before its first import.",
    )
    dataset: str | None = Field(
        None, description="Dataset the notebook uses (see grader.datasets); decides the data tier."
    )
    stub: str = Field("stub.ipynb", description="The student notebook, relative to the folder.")
    public_tests: str = Field(
        "tests/public",
        description="Informational: nothing reads it; public tests are always read from "
        "`tests/public/`.",
    )
    hidden_tests: str = Field(
        "tests/hidden",
        description="Informational: nothing reads it; hidden tests are always read from "
        "`tests/hidden/`.",
    )
    limits: Limits = Field(
        Limits(), description="Resource limits of the kernel (the `Limits` table)."
    )
    interface: Interface = Field(
        Interface(),
        description="The names tests may rely on (the `Interface` table); the stub's first "
        "markdown cell states the same.",
    )
    recovery: Recovery = Field(
        Recovery(),
        description="Running the notebook again without a cell that killed the kernel (the "
        "`Recovery` table).",
    )
    numerics: Numerics = Field(
        Numerics(),
        description="Seed, threads and instruction-set level of the kernel's numeric "
        "libraries (the `Numerics` table).",
    )
    grading_parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Values injected after the notebook's `parameters` cell when grading.",
    )
    due: str | None = Field(
        None,
        description="The due date (ISO). Informational: nothing reads it; student reports "
        "always hide `after_due_date` results, and exports show them with "
        "`grader export --released`.",
    )
    viva_questions: list[str] = Field(
        default_factory=list,
        description="Questions for the viva, in the instructor's report only (never released).",
    )

    def imports_to_warm(self) -> tuple[str, ...]:
        """``warm_imports``, or the framework's default modules."""
        if self.warm_imports is not None:
            return tuple(self.warm_imports)
        return FRAMEWORK_IMPORTS[self.framework]

    @field_validator("grading_parameters")
    @classmethod
    def _identifiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not key.isidentifier():
                raise ValueError(f"grading parameter {key!r} is not a Python name")
        return value


class DockerSettings(Strict):
    """How the Docker runner starts each submission's container (``docker:`` in dlgrader.yaml)."""

    image: str | None = Field(
        None,
        description="Kernel image; default dlgrader/kernel-gpu:VERSION on a GPU host, "
        "else dlgrader/kernel-cpu:VERSION (both built by docker/build.sh).",
    )
    cpus: float = Field(2.0, gt=0, description="CPU cores one container may use (a CPU quota).")
    shm_mb: int = Field(
        1024, ge=64, description="Size of /dev/shm in MiB: PyTorch data loaders pass batches there."
    )
    gpus: Literal["auto", "none"] = Field(
        "auto", description="auto: give each container a GPU of its own when the host has them."
    )


RunnerName = Literal["local", "docker"]


class CourseConfig(Strict):
    """Optional ``dlgrader.yaml`` at a course root: where its folders are, where kernels run."""

    assignments: str = Field(
        "assignments", description="Folder of the assignments, relative to the course root."
    )
    solutions: str = Field("solutions", description="Folder of the reference solutions.")
    rubrics: str = Field("rubrics", description="Folder of the rubrics.")
    templates: str | None = Field(
        None,
        description="Folder of report templates that override the bundled ones; default: the "
        "course's `templates/` when it exists.",
    )
    runner: RunnerName = Field(
        "local", description="Where kernels run: local (sandboxed process) or docker."
    )
    docker: DockerSettings = Field(
        DockerSettings(), description="Settings of the Docker runner (the `DockerSettings` table)."
    )


#: Where ``grader grade`` writes unless told otherwise: OUTPUT_ROOT/ASSIGNMENT/NOTEBOOK/.
OUTPUT_ROOT = Path("grading-output")
