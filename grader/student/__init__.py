"""What students run themselves: ``check()`` in the notebook, and ``grader check``'s views.

* :mod:`~grader.student.inline`: ``check("q1")`` against the live kernel.
* :mod:`~grader.student.bundle`: find the released assignment and its questions.
* :mod:`~grader.student.summary`: the table both modes show, labelled public.
* :mod:`~grader.student.diagnose`: cells out of order, cells that raised.
* :mod:`~grader.student.submit`: ``grader check --submit``'s checks and the file to hand in.

Only public tests: the student already has them in the released bundle.
"""
