"""Starting and growing a course: ``grader init``, ``grader add``, ``grader new``.

``course_files`` writes a new course's own files (dlgrader.yaml, .gitignore, CI),
``labs`` copies a bundled lab in, ``new`` writes a new assignment from a framework's
``templates``. Each refuses to overwrite a file: a course is the instructor's work.
"""
