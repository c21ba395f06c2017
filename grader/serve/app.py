"""The review app's routes: thin handlers over the gradebook, the reports and the marks.

Every page is rendered server-side with autoescaped Jinja2 templates and needs no
script; :class:`grader.serve.security.TokenGate` wraps the whole app.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from grader.batch.summary import write_summary
from grader.errors import GraderError
from grader.exports import ExportError
from grader.marks import MarkError, default_marker
from grader.report.render import render_html
from grader.serve import downloads, marking, pages
from grader.serve.context import ServeContext
from grader.serve.regrade import Regrader
from grader.serve.security import CSRF_FIELD, TokenGate, csrf_ok, csrf_value

TEMPLATES = Path(__file__).parent / "templates"
BY_COOKIE = "dlgrader_by"


def build_app(ctx: ServeContext) -> TokenGate:
    """The ASGI app for ``ctx``, behind the token gate."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def render(request: Request, name: str, status: int = 200, **values: object) -> HTMLResponse:
        session = request.scope.get("state", {}).get("session", "")
        values.setdefault("message", request.query_params.get("msg", ""))
        text = env.get_template(name).render(
            assignment=ctx.name,
            csrf_field=CSRF_FIELD,
            csrf=csrf_value(ctx.token, session),
            by=unquote(request.cookies.get(BY_COOKIE, "")) or default_marker(),
            **values,
        )
        return HTMLResponse(text, status_code=status)

    async def form(request: Request) -> FormData:
        data = await request.form()
        session = request.scope.get("state", {}).get("session")
        if not csrf_ok(ctx.token, session, str(data.get(CSRF_FIELD, ""))):
            raise PermissionError("the form's CSRF value is missing or wrong: reload the page")
        return data

    async def home(request: Request) -> Response:
        return RedirectResponse("/class", status_code=303)

    async def class_page(request: Request) -> Response:
        q = request.query_params
        show, sort, desc = q.get("show", "all"), q.get("sort", "student"), q.get("desc") == "1"

        def gather() -> pages.ClassView:
            with ctx.book() as book:
                return pages.class_view(ctx, book, show, sort, desc)

        view = await run_in_threadpool(gather)
        return render(request, "class.html.j2", v=view)

    async def summary(request: Request) -> Response:
        path = ctx.out_dir / "summary.html"
        if not path.is_file():

            def write() -> None:
                with ctx.write_lock, ctx.book() as book:  # one matplotlib user at a time
                    write_summary(book, ctx.name, ctx.out_dir, templates_dir=ctx.templates_dir)

            await run_in_threadpool(write)
        return FileResponse(path, media_type="text/html")

    async def summary_link(request: Request) -> Response:
        """The summary links each student's report file: open their page instead."""
        folder = request.path_params["folder"]
        with ctx.book() as book:
            found = [
                a.student
                for a, _ in ctx.counting(book).values()
                if Path(a.results_path).parent.name == folder
            ]
        if not found:
            return render(request, "message.html.j2", 404, message=f"no student in {folder!r}")
        return RedirectResponse(f"/student/{quote(found[0], safe='')}", status_code=303)

    async def student_page(request: Request) -> Response:
        student = request.path_params["student"]

        def gather() -> pages.StudentView | None:
            with ctx.book() as book:
                return pages.student_view(ctx, book, student)

        view = await run_in_threadpool(gather)
        if view is None:
            return render(request, "message.html.j2", 404, message=f"no student {student!r}")
        return render(request, "student.html.j2", s=view)

    async def report(request: Request) -> Response:
        with ctx.book() as book:
            found = ctx.counting(book).get(request.path_params["student"])
        if found is None:
            return Response("no such student", status_code=404)
        return HTMLResponse(render_html(found[1], "instructor", ctx.templates_dir))

    async def figure(request: Request) -> Response:
        with ctx.book() as book:
            found = ctx.counting(book).get(request.path_params["student"])
        if found is None:
            return Response("no such student", status_code=404)
        folder = (Path(found[0].results_path).parent / "figures").resolve()
        path = (folder / request.path_params["path"]).resolve()
        if not path.is_relative_to(folder) or path.suffix != ".png" or not path.is_file():
            return Response("no such figure", status_code=404)
        return FileResponse(path, media_type="image/png")

    async def mark(request: Request) -> Response:
        student = request.path_params["student"]
        data = await form(request)
        fields = {k: str(data.get(k, "")) for k in ("criterion", "points", "comment", "by")}
        outcome = await run_in_threadpool(
            marking.give_mark, ctx, student, fields["criterion"], fields["points"],
            fields["comment"], fields["by"], str(data.get("seen", "")),
            data.get("confirmed") == "1",
        )  # fmt: skip
        if outcome.status != "saved":
            return render(request, "resubmit.html.j2", 409, student=student, o=outcome, f=fields)
        return _back(student, outcome.message, fields["by"])

    async def confirm(request: Request) -> Response:
        student = request.path_params["student"]
        data = await form(request)
        by = str(data.get("by", "")) or default_marker()
        outcome = await run_in_threadpool(marking.confirm_review, ctx, student, by)
        return _back(student, outcome.message, by)

    async def clear(request: Request) -> Response:
        student = request.path_params["student"]
        data = await form(request)
        by = str(data.get("by", "")) or default_marker()
        criterion = str(data.get("criterion", ""))
        outcome = await run_in_threadpool(marking.clear_mark, ctx, student, criterion, by)
        return _back(student, outcome.message, by)

    async def next_student(request: Request) -> Response:
        with ctx.book() as book:
            found = pages.next_student(ctx, book, request.query_params.get("after"))
        if found is None:
            return RedirectResponse("/class?msg=" + quote("every manual mark is given"), 303)
        return RedirectResponse(f"/student/{quote(found, safe='')}", status_code=303)

    async def exports_page(request: Request) -> Response:
        return render(request, "exports.html.j2", formats=downloads.formats())

    async def export(request: Request) -> Response:
        data = await form(request)
        upload = data.get("roster")
        roster = await upload.read() if isinstance(upload, UploadFile) else None
        got = await run_in_threadpool(
            downloads.export, ctx, str(data.get("format", "")), roster or None,
            str(data.get("pending", "omit")), data.get("released") == "1",
        )  # fmt: skip
        headers = {"content-disposition": f'attachment; filename="{got.filename}"'}
        return Response(got.body, media_type=got.media_type, headers=headers)

    regrader = Regrader(ctx)

    async def regrade(request: Request) -> Response:
        data = await form(request)
        with ctx.book() as book:
            counting = ctx.counting(book)
        if data.get("flagged") == "1":
            students = [s for s, (_, r) in counting.items() if r.flags]
        else:
            students = [s for s in [str(data.get("student", ""))] if s in counting]
        if not students:
            return RedirectResponse("/class?msg=" + quote("nobody to regrade"), 303)
        return RedirectResponse(f"/regrade/{regrader.start(students).id}", status_code=303)

    async def regrade_status(request: Request) -> Response:
        job = regrader.jobs.get(request.path_params["job"])
        if job is None:
            return render(request, "message.html.j2", 404, message="no such regrade")
        target = "/class"
        if len(job.students) == 1:
            target = f"/student/{quote(job.students[0], safe='')}"
        return render(request, "regrade.html.j2", job=job, target=target)

    async def css(request: Request) -> Response:
        return FileResponse(TEMPLATES / "serve.css", media_type="text/css")

    async def refused(request: Request, exc: Exception) -> Response:
        return render(request, "message.html.j2", 403, message=str(exc))

    async def bad(request: Request, exc: Exception) -> Response:
        return render(request, "message.html.j2", 400, message=str(exc))

    routes = [
        Route("/", home),
        Route("/class", class_page),
        Route("/summary", summary),
        Route("/next", next_student),
        Route("/exports", exports_page),
        Route("/exports", export, methods=["POST"]),
        Route("/static/serve.css", css),
        Route("/regrade", regrade, methods=["POST"]),
        Route("/regrade/{job}", regrade_status),
        Route("/student/{student}", student_page),
        Route("/student/{student}/report", report),
        Route("/student/{student}/figures/{path:path}", figure),
        Route("/student/{student}/mark", mark, methods=["POST"]),
        Route("/student/{student}/confirm", confirm, methods=["POST"]),
        Route("/student/{student}/clear", clear, methods=["POST"]),
        Route("/{folder}/report.instructor.html", summary_link),
    ]
    handlers = {PermissionError: refused, MarkError: bad, ExportError: bad, GraderError: bad}
    app = Starlette(routes=routes, exception_handlers=handlers)  # type: ignore[arg-type]
    return TokenGate(app, ctx.token)


def _back(student: str, message: str, by: str) -> Response:
    url = f"/student/{quote(student, safe='')}?msg={quote(message)}"
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(BY_COOKIE, quote(by), httponly=True, samesite="strict")
    return response
