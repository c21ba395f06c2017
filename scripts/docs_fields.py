"""Descriptions of model fields that have none in the code yet, for the reference pages.

Each entry is ``Model.key`` -> the text ``Field(description=...)`` should hold; once a
model has its own description, that one is used and the entry here can go
(``scripts/docs_reference.py`` prints which entries are still in use).
"""

#: ``Model.key`` -> description, for fields whose model has none yet (move them there).
FALLBACK: dict[str, str] = {
    "Rubric.assignment": "The assignment this rubric grades: must equal its folder name.",
    "Rubric.gpu_policy": "What `requires_gpu` criteria graded without a GPU become, unless a "
    "criterion says otherwise: `exclude` (their points leave the maximum) or `pending` "
    "(withheld until graded on a GPU). Never a silent 0.",
    "Rubric.total": "The assignment's total, as a check: it must equal the sum of the "
    "criteria's points.",
    "Rubric.criteria": "The criteria, in the order reports show them (students' checks are "
    "numbered q1, q2, ... in this order).",
    "Criterion.id": "Unique in the rubric; exports, `grader check` and `grader mark` use it.",
    "Criterion.name": "What students read in reports and exports.",
    "Criterion.points": "What the criterion is worth.",
    "Criterion.tests": "Test ids under `assignments/NAME/tests/`: `hidden/test_x.py::test_y` "
    "or `hidden/test_x.py::TestClass::test_y`; each must exist. Passed when every outcome of "
    "them passed (every case of a parametrized test). A criterion whose tests are all under "
    "`public/` is a student check. Required unless `manual`.",
    "Criterion.visibility": "What the student report and exports show: `visible` everything; "
    "`hidden` name, status, points and feedback; `after_due_date` only the name until the "
    "due date.",
    "Criterion.feedback": "What students read when the criterion passes or not. Required "
    "unless `manual`.",
    "Criterion.student_code": "Needs code the student writes: `grader validate` requires the "
    "stub to fail it. False for what the stub passes as given; always false when `manual`.",
    "Criterion.score_from": "A value a test records with `nb.record(key, value)`, scored by "
    "`bands`. Goes with `bands`.",
    "Criterion.bands": "Partial credit per data tier (`offline`, `full`; a tier without bands "
    "uses `offline`'s): the first band the `score_from` value meets gives its fraction of the "
    "points; none met gives 0. Goes with `score_from`.",
    "Criterion.requires_gpu": "Graded only on a GPU; without one it is excluded or pending "
    "(per `gpu_policy`), never 0.",
    "Criterion.gpu_policy": "This criterion's own `exclude` or `pending`; default: the rubric's.",
    "Criterion.manual": "Marked by a person with `grader mark` (a viva, a write-up): no tests "
    "or feedback; pending until marked ([marks.md](../marks.md)).",
    "Criterion.levels": "A manual criterion's levels: what each mark stands for. They must "
    "differ and not exceed `points`; the highest level a mark reaches is its feedback.",
    "Feedback.pass": "Shown when the criterion earns all its points.",
    "Feedback.fail": "Shown otherwise: failed, partial credit, error or not run.",
    "Band.at_least": "The band is met by a value at least this (higher is better).",
    "Band.at_most": "The band is met by a value at most this (lower is better).",
    "Band.fraction": "The fraction of the criterion's points the band earns.",
    "Level.points": "The points of this level, from 0 to the criterion's points.",
    "Level.text": "What earns them; students read it as the feedback of their mark.",
    "AssignmentConfig.name": "The assignment's name: its folder under `assignments/`, its "
    "rubric `rubrics/NAME.yaml`, its solution `solutions/NAME.ipynb`.",
    "AssignmentConfig.title": "Shown in reports, the class summary, exports and the release.",
    "AssignmentConfig.framework": "What the notebook is written with (informational).",
    "AssignmentConfig.public_tests": "Informational: tests are always read from `tests/public/`.",
    "AssignmentConfig.hidden_tests": "Informational: tests are always read from `tests/hidden/`.",
    "AssignmentConfig.limits": "Resource limits of the kernel (the `Limits` table).",
    "AssignmentConfig.viva_questions": "Questions for the viva, in the instructor's report only "
    "(never released).",
    "CourseConfig.assignments": "Folder of the assignments, relative to the course root.",
    "CourseConfig.solutions": "Folder of the reference solutions.",
    "CourseConfig.rubrics": "Folder of the rubrics.",
    "CourseConfig.templates": "Folder of report templates that override the bundled ones; "
    "default: the course's `templates/` when it exists.",
    "CourseConfig.docker": "Settings of the Docker runner (the `DockerSettings` table).",
}

#: Fields of the results document (grader/results.py).
FALLBACK |= {
    "GradingResult.schema_version": "Version of this document's format.",
    "GradingResult.assignment": "The assignment's name.",
    "GradingResult.assignment_title": "The assignment's title.",
    "GradingResult.mode": "`grade` (all tests, `grader grade` and `grader batch`) or `check` "
    "(public tests only, a student's `grader check`).",
    "GradingResult.submission": "The notebook that was graded.",
    "GradingResult.graded_at": "When, as an ISO 8601 time.",
    "GradingResult.data_tier": "`full` or `offline`: the data the notebook was graded on; "
    "null for an assignment without a dataset.",
    "GradingResult.score": "The points, the maximum, and what is pending or excluded.",
    "GradingResult.criteria": "One result per rubric criterion, in the rubric's order.",
    "GradingResult.execution": "How running the notebook went; null when it could not start.",
    "GradingResult.environment": "Where it was graded: versions, device, sandbox, limits.",
    "GradingResult.timings": "How long grading took.",
    "GradingResult.warnings": "What weakened grading (a missing sandbox, a limit that could "
    "not be enforced); shown in every report.",
    "GradingResult.viva_questions": "The assignment's viva questions, for the instructor's report.",
    "Submission.path": "The notebook's path as given to the grader.",
    "Submission.name": "Its file name.",
    "Submission.sha256": "SHA-256 of its bytes: which version of the notebook was graded.",
    "Submission.size_bytes": "Its size in bytes.",
    "Score.points": "Points earned; pending and excluded criteria add nothing.",
    "Score.max_points": "The maximum: every criterion that counts toward the total, pending "
    "ones included, excluded ones not.",
    "CriterionResult.id": "The rubric criterion's id.",
    "CriterionResult.name": "Its name.",
    "CriterionResult.tests": "The test ids it was graded by.",
    "CriterionResult.status": "What happened ([statuses](../reports.md)).",
    "CriterionResult.points": "Points earned.",
    "CriterionResult.max_points": "Its points in the rubric.",
    "CriterionResult.counts_toward_total": "False when it was excluded from the maximum "
    "(a GPU criterion graded without a GPU, `gpu_policy: exclude`).",
    "CriterionResult.pending": "Its points are withheld: waiting for a GPU or for a mark.",
    "CriterionResult.feedback": "The rubric's pass or fail text (or why it is pending).",
    "CriterionResult.measured": "Values the tests recorded with `nb.record` (hidden from "
    "students for `hidden` criteria).",
    "CriterionResult.visibility": "The rubric's visibility of the criterion.",
    "CriterionResult.requires_gpu": "The rubric says it needs a GPU.",
    "ManualMark.points": "The points given.",
    "ManualMark.comment": "Why, as the person wrote it.",
    "MachineVerdict.status": "The tests' status.",
    "MachineVerdict.points": "The tests' points.",
    "MachineVerdict.feedback": "The tests' feedback.",
    "MachineVerdict.detail": "The tests' detail.",
    "Execution.cells_total": "Code cells in the notebook.",
    "Execution.cells_run": "Code cells that ran.",
    "Execution.duration_s": "Seconds running the notebook took.",
    "Execution.stop_reason": "Why the kernel stopped (a cell that would not stop, the kernel "
    "died), when it did.",
    "Execution.errors": "Every cell that raised, in order.",
    "Execution.figures": "Images the notebook drew.",
    "CellError.execution_count": "Its execution count in this run.",
    "CellError.ename": "The exception's class name.",
    "CellError.evalue": "The exception's message.",
    "CellError.traceback": "The traceback, as text (capped).",
    "Figure.cell": "The cell that drew it (1-based position).",
    "Figure.path": "The PNG file, relative to the report.",
    "Figure.width": "Width in pixels.",
    "Figure.height": "Height in pixels.",
    "Environment.python": "Python version of the grader.",
    "Environment.platform": "Operating system and machine.",
    "Environment.grader_version": "dlgrader's version.",
    "Environment.packages": "Versions of the numeric libraries installed.",
    "Environment.device": "`cuda` when a GPU was available to the notebook, else `cpu`.",
    "Environment.gpu_available": "Whether a GPU was available to the notebook.",
    "Environment.runner": "`local` or `docker`.",
    "Environment.sandbox": "How the kernel was confined: `bubblewrap`, `unshare`, `none`, or "
    "`docker`.",
    "Environment.network_blocked": "The kernel had no network.",
    "Environment.filesystem_private": "The kernel could not see the course folder or other "
    "submissions.",
    "Environment.memory_limit_mb": "The memory limit enforced, in MiB.",
    "Environment.cpu_limit_s": "The CPU-time limit enforced, in seconds.",
    "Environment.process_limit": "The process and thread limit enforced.",
    "Environment.disk_limit_mb": "The disk space limit enforced, in MiB.",
    "Timings.total_s": "Seconds for the whole grading.",
    "Timings.execute_s": "Seconds running the notebook.",
    "Timings.tests_s": "Seconds running the tests.",
}
