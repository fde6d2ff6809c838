"""The investigators' review app: the day's list, a person's page, and recording a verdict.

Starlette + Jinja2, server-rendered: plain HTML forms, no JavaScript needed, one small CSS
file served from the package (no page loads anything from the internet). It reads through
the deployment's warehouse resource (DuckDB locally, Athena in production) and writes
verdicts to the lake (reviews/dispositions.py); it opens no database of its own.

Jinja2 autoescapes everything, so a note holding HTML or a script is shown as text. After
a verdict the browser is redirected (POST-redirect-GET), and every form carries a fresh
token, so a reload or a double click records one row, not two.

A verdict becomes a training label, so a page on another site must not be able to post one
in an investigator's name (cross-site request forgery). Every page sets a random per-browser
secret in a SameSite=Strict, HttpOnly cookie and puts the same value in each form; /verdict
records nothing unless the two match and, when the browser names the page's origin, that
origin is this app. A forged post gets a 403 page that says what to do.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import AthenaWarehouse, Warehouse, WarehouseError
from tsfraud_assets.reviews import dispositions, views

HERE = Path(__file__).parent
REVIEWER_COOKIE = "tsfraud_reviewer"
CSRF_COOKIE = "tsfraud_csrf"
CSRF_FIELD = "csrf"


def csrf_secret(request: Request) -> tuple[str, bool]:
    """The browser's form secret, and whether it is new (to be set as a cookie)."""
    known = request.cookies.get(CSRF_COOKIE, "")
    if len(known) >= 32:
        return known, False
    return secrets.token_urlsafe(32), True


def with_csrf_cookie(response: Response, secret: str, new: bool) -> Response:
    if new:
        response.set_cookie(CSRF_COOKIE, secret, httponly=True, samesite="strict")
    return response


def forged(request: Request, sent: str) -> str | None:
    """Why a POST is refused as not coming from this app's own page, or None if it did."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = origin.split("://", 1)[-1]
        if host != request.headers.get("host", ""):
            return f"it was sent from another site ({origin})"
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        return "it does not carry this browser's form key (the page may be from an old session)"
    return None


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every page: notes and reasons are user text
        undefined=jinja2.StrictUndefined,
    )
    env.filters["hours"] = lambda x: "–" if x is None else f"{x:.1f} h"
    env.filters["score"] = lambda x: "–" if x is None else f"{x:.3f}"
    env.filters["stamp"] = lambda x: "" if x is None else f"{x:%Y-%m-%d %H:%M}"
    env.globals["FRAUD_TYPES"] = dispositions.FRAUD_TYPES
    env.globals["CLEAR_REASONS"] = dispositions.CLEAR_REASONS
    env.globals["INFO_REASONS"] = dispositions.INFO_REASONS
    env.globals["new_token"] = lambda: uuid.uuid4().hex
    return env


def fresh_reads(warehouse: Warehouse) -> None:
    """Give each request its own Athena idempotency scope.

    AthenaWarehouse derives a query's token from its SQL, parameters and scope, so within one
    scope an identical query returns the first result again: right for a retried Dagster step,
    wrong for a page that must show the verdict recorded a second ago. A long-lived app would
    otherwise serve the list as it was at start-up. DuckDB has no such cache."""
    if isinstance(warehouse, AthenaWarehouse) and warehouse.run_scope is None:
        warehouse._scope = uuid.uuid4().hex


def create_app(warehouse: Warehouse, lake: Lake) -> Starlette:
    env = _environment()

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        page = {"message": "", "error": "", "back": "/", "reviewer_name": "", **context}
        return HTMLResponse(env.get_template(name).render(**page), status_code=status)

    def list_page(request: Request) -> Response:
        fresh_reads(warehouse)
        message = request.query_params.get("msg", "")
        error = ""
        day: dt.date | None = None
        text = request.query_params.get("day", "").strip()
        if text:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                error = f"{text!r} is not a date (YYYY-MM-DD); showing the latest day"
        span = views.scored_span(warehouse)
        if span is None:
            return render("empty.html", status=404)
        if day is not None and not span[0] <= day <= span[1]:
            error = f"{day} is outside the scored days ({span[0]} to {span[1]}); showing the latest"
            day = None
        data = views.day_list(warehouse, day)
        secret, new = csrf_secret(request)
        page = render(
            "list.html",
            status=400 if error else 200,
            csrf=secret,
            reviewer_name=request.cookies.get(REVIEWER_COOKIE, ""),
            data=data,
            message=message,
            error=error,
            back=str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
        )
        return with_csrf_cookie(page, secret, new)

    def person_page(request: Request) -> Response:
        fresh_reads(warehouse)
        raw = request.path_params["code"]
        message = request.query_params.get("msg", "")
        try:
            code = dispositions.parse_employee_code(raw)
        except dispositions.VerdictError as exc:
            return render("error.html", status=404, error=str(exc))
        until: dt.date | None = None
        text = request.query_params.get("until", "").strip()
        if text:
            try:
                until = dt.date.fromisoformat(text)
            except ValueError:
                return render("error.html", status=400, error=f"{text!r} is not a date")
        data = views.person(warehouse, code, until)
        if data is None:
            return render("error.html", status=404, error=f"no employee with code {code}")
        secret, new = csrf_secret(request)
        page = render(
            "person.html",
            csrf=secret,
            data=data,
            reviewer_name=request.cookies.get(REVIEWER_COOKIE, ""),
            message=message,
            back=str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
        )
        return with_csrf_cookie(page, secret, new)

    async def verdict(request: Request) -> Response:
        form = await request.form()
        fresh_reads(warehouse)
        field = {k: str(form.get(k) or "") for k in form}
        back = field.get("back") or "/"
        if not back.startswith("/") or back.startswith("//"):
            back = "/"  # only ever redirect within this app
        why = forged(request, field.get(CSRF_FIELD, ""))
        if why is not None:
            return render(
                "error.html",
                status=403,
                error=f"Nothing was recorded: {why}. Open the list in this app, "
                "then record the verdict from there.",
                back=back,
            )
        # One <select> carries both halves ("cleared:model_error"): no script needed to
        # show the reasons that belong to the chosen verdict.
        verdict_name, _, reason = field.get("outcome", "").partition(":")
        try:
            # Blocking reads (Athena polls): off the event loop.
            recorded = await run_in_threadpool(
                dispositions.record_verdict,
                warehouse,
                lake,
                employee_code=field.get("employee_code", ""),
                work_date=field.get("work_date", ""),
                verdict=verdict_name,
                reason=reason,
                reviewer=field.get("reviewer", ""),
                note=field.get("note", ""),
                channel="web",
                seen_scored_at=field.get("scored_at") or None,
                seen_model_version=field.get("model_version") or None,
                token=field.get("token") or None,
            )
        except dispositions.VerdictError as exc:
            return render("error.html", status=400, error=str(exc), back=back)
        what = f"{field.get('employee_code', '').upper()} on {field.get('work_date')}"
        if recorded.created:
            msg = f"Recorded: {verdict_name} ({reason.replace('_', ' ')}) for {what}."
        else:
            msg = f"Already recorded (the same form was sent twice): {verdict_name} for {what}."
        base = back.split("msg=")[0].rstrip("?&")
        sep = "&" if "?" in base else "?"
        response = RedirectResponse(f"{base}{sep}{urlencode({'msg': msg})}", status_code=303)
        # The next form comes filled with the same name: one reviewer, many verdicts.
        response.set_cookie(
            REVIEWER_COOKIE,
            recorded.row.get("reviewer") or field.get("reviewer", ""),
            max_age=30 * 24 * 3600,
            httponly=True,
            samesite="strict",
        )
        return response

    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def on_warehouse_error(request: Request, exc: Exception) -> Response:
        return render("error.html", status=503, error=f"the warehouse cannot answer: {exc}")

    app = Starlette(
        routes=[
            Route("/", list_page),
            Route("/person/{code}", person_page),
            Route("/verdict", verdict, methods=["POST"]),
            Route("/healthz", health),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        exception_handlers={WarehouseError: on_warehouse_error},
    )
    return app


def serve(warehouse: Warehouse, lake: Lake, host: str, port: int) -> None:
    import uvicorn

    dispositions.ensure_dataset(lake)
    print(f"tsfraud review: http://{host}:{port}/  (Ctrl-C stops it)")
    uvicorn.run(create_app(warehouse, lake), host=host, port=port, log_level="warning")
