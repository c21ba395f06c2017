"""``grader serve``: review a graded class in the browser.

A small Starlette app over the batch's gradebook: the class table, each student's report
beside their notebook (rendered as text), forms for marks that go through the same
checks and log as ``grader mark``, and export downloads. It is meant for one machine:
it binds 127.0.0.1 and every request needs the random token printed at start
(:mod:`grader.serve.security`).
"""
