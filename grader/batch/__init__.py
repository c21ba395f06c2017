"""Grading a whole class: find the submissions, grade them in parallel, keep a gradebook.

``submissions`` turns a folder or zip into (student id, notebook) pairs, ``gradebook``
keeps every result in SQLite as it arrives (so a killed batch resumes), ``dispatch``
runs the grading on a Dask cluster (a local one on loopback by default), and ``run``
ties them together for ``grader batch``.
"""
