"""nbgrader's configuration for the backprop benchmark course (bench/peer_setup.py)."""

c = get_config()  # noqa: F821 - nbgrader's config loader provides it

c.CourseDirectory.course_id = "dlgrader-bench"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# dlgrader gives backprop 60 s per cell; nbgrader's default is 30 s.
c.Execute.timeout = 60
