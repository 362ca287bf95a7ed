"""The dashboard server: one page, its assets, and a small JSON API.

Routes::

    GET  /                      the page
    GET  /static/<name>         one of a fixed list of files (see rareflow.web.assets)
    GET  /api/scenarios         bundled scenarios with their levers' defaults and bounds
    POST /api/runs              run a scenario with levers -> run id, answers, charts
    POST /api/jobs              the same run in the background -> a job to poll
    GET  /api/jobs/<id>         a job's progress (years done), and its run's view once done
    DELETE /api/jobs/<id>       cancel a job: the run stops and nothing is stored
    GET  /api/runs              past runs in the store, newest first
    GET  /api/runs/<id>         reopen a stored run (answers and charts; ?year= and ?element=
                                choose the Sankey's year and element)
    GET  /api/compare?a=&b=     two stored runs side by side, every shared year
    GET  /api/compare.csv?a=&b= the same comparison as CSV

Errors are JSON ``{"error": "..."}`` with a 4xx status that says what was wrong.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import xarray as xr
from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from rareflow.model.errors import DataError
from rareflow.scenario.scenario import Scenario, valid_years
from rareflow.store import AmbiguousRunError, RunNotFoundError, RunStore, StoreError
from rareflow.store.runs import RunInfo
from rareflow.web.assets import assets, index_page
from rareflow.web.catalogue import Catalogue, UnknownScenario
from rareflow.web.derive import LeverError, derive_scenario
from rareflow.web.guard import DEFAULT_MAX_BODY, RequestGuard
from rareflow.web.jobs import Busy, RunFailed, RunPool, RunRefused, UnknownJob, shared_world
from rareflow.web.levers import lever_bounds
from rareflow.web.payloads import RUN_ID_PATTERN, RunRequest
from rareflow.web.views import (
    compare_csv,
    compare_table,
    compare_view,
    result_elements,
    result_view,
    run_summary,
)

#: Host names a browser uses for a server bound to the loopback interface.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
MAX_LISTED_RUNS = 500

RunId = Annotated[str, Query(pattern=RUN_ID_PATTERN)]
JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")]


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def create_app(
    store_dir: Path,
    *,
    max_active_runs: int = 2,
    max_body: int = DEFAULT_MAX_BODY,
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS,
) -> RequestGuard:
    """The dashboard as an ASGI app storing runs in ``store_dir``.

    ``allowed_hosts`` are the Host headers accepted (the loopback names by default, which also
    defeats DNS-rebinding attacks from other web pages); ``("*",)`` accepts any.
    """
    world = shared_world()
    catalogue = Catalogue.load(world)
    wording = catalogue.wording()
    RunStore(store_dir).close()  # create the store up front so reads never race its creation
    pool = RunPool(store_dir, max_active_runs)
    files = assets()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.shutdown()

    app = FastAPI(title="rareflow dashboard", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    _error_handlers(app)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(index_page(), media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> FileResponse:
        asset = files.get(name)
        if asset is None:
            raise ApiError(404, "no such file")
        return FileResponse(asset.path, media_type=asset.media_type,
                            headers={"Cache-Control": asset.cache_control})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/api/scenarios")
    async def scenarios() -> dict[str, Any]:
        valid = valid_years(world)
        return {"scenarios": catalogue.describe(), "bounds": lever_bounds(),
                "world": {"name": world.vintage, "base_year": world.provenance.base_year,
                          "years": {"start": valid[0], "end": valid[-1]}}}

    def prepare(request: RunRequest) -> tuple[Scenario, list[int], dict[str, Any]]:
        base = catalogue.get(request.scenario)
        derived = derive_scenario(base, request.levers, world)
        try:
            years = list(base.run_years(world, request.years.years() if request.years else None))
        except DataError as exc:
            raise ApiError(422, exc.message) from None
        params = {
            "base_scenario": base.name,
            "levers": request.levers.model_dump(mode="json", exclude_none=True),
            "changes": list(derived.changes),
        }
        return derived.scenario, years, params

    @app.post("/api/runs", status_code=201)
    async def run(request: RunRequest) -> dict[str, Any]:
        return await pool.run(*prepare(request))

    @app.post("/api/jobs", status_code=202)
    async def start_job(request: RunRequest) -> dict[str, Any]:
        return pool.start(*prepare(request)).describe()

    @app.get("/api/jobs/{job_id}")
    async def job_progress(job_id: JobId) -> dict[str, Any]:
        return pool.job(job_id).describe()

    @app.delete("/api/jobs/{job_id}")
    async def cancel_job(job_id: JobId) -> dict[str, Any]:
        return pool.cancel(job_id).describe()

    @app.get("/api/runs")
    async def runs(limit: Annotated[int, Query(ge=1, le=MAX_LISTED_RUNS)] = 100) -> dict[str, Any]:
        infos = await run_in_threadpool(_list_runs, store_dir)
        return {"runs": [run_summary(info, wording) for info in infos[:limit]],
                "total": len(infos),
                "active_runs": pool.active}

    @app.get("/api/runs/{run_id}")
    async def open_run(
        run_id: Annotated[str, PathParam(pattern=RUN_ID_PATTERN)],
        year: Annotated[int | None, Query(ge=1950, le=2150)] = None,
        element: Annotated[str | None, Query(pattern=r"^[A-Za-z]{1,8}$")] = None,
    ) -> dict[str, Any]:
        info, result = await run_in_threadpool(_load_run, store_dir, run_id)
        if year is not None and year not in {int(y) for y in result["year"].values}:
            raise ApiError(422, f"run {info.run_id} has no year {year}")
        if element is not None and element not in result_elements(result):
            raise ApiError(422, f"run {info.run_id} has no element '{element}' (it has "
                                f"{', '.join(result_elements(result))})")
        return await run_in_threadpool(result_view, run_summary(info, wording), result, world,
                                       year=year, wording=wording, element=element)

    @app.get("/api/compare")
    async def compare_runs(a: RunId, b: RunId) -> dict[str, Any]:
        info_a, ds_a = await run_in_threadpool(_load_run, store_dir, a)
        info_b, ds_b = await run_in_threadpool(_load_run, store_dir, b)
        try:
            return await run_in_threadpool(
                compare_view, run_summary(info_a, wording), ds_a, run_summary(info_b, wording),
                ds_b, world, wording,
            )
        except ValueError as exc:
            raise ApiError(422, f"cannot compare runs {a} and {b}: {exc}") from None

    @app.get("/api/compare.csv")
    async def compare_runs_csv(a: RunId, b: RunId) -> Response:
        info_a, ds_a = await run_in_threadpool(_load_run, store_dir, a)
        info_b, ds_b = await run_in_threadpool(_load_run, store_dir, b)
        try:
            table = await run_in_threadpool(compare_table, ds_a, ds_b, world)
        except ValueError as exc:
            raise ApiError(422, f"cannot compare runs {a} and {b}: {exc}") from None
        name = f"rareflow-compare-{info_a.run_id}-{info_b.run_id}.csv"
        return Response(compare_csv(table, info_a.run_id, info_b.run_id),
                        media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return RequestGuard(app, max_body=max_body)


def _list_runs(store_dir: Path) -> list[RunInfo]:
    with RunStore(store_dir, read_only=True) as store:
        return store.list_runs()


def _load_run(store_dir: Path, run_id: str) -> tuple[RunInfo, xr.Dataset]:
    """A stored single run and its result (ensembles are for ``rareflow report``)."""
    with RunStore(store_dir, read_only=True) as store:
        try:
            info = store.get_run(run_id)
        except RunNotFoundError:
            raise ApiError(404, f"no run '{run_id}' in the run store") from None
        except AmbiguousRunError as exc:
            raise ApiError(409, str(exc)) from None
        if info.kind != "single":
            raise ApiError(422, f"run {info.run_id} is an ensemble of {info.n_draws} draws; the "
                                "dashboard opens single runs (see 'rareflow report')")
        if info.status != "complete":
            raise ApiError(409, f"run {info.run_id} is {info.status}; it has no result to show")
        return info, store.load_result(info.run_id)


def _error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": ...}`` JSON with the status that fits it."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)

    @app.exception_handler(UnknownScenario)
    async def unknown(_: Request, exc: UnknownScenario) -> JSONResponse:
        return JSONResponse({"error": str(exc), "known": exc.known}, status_code=404)

    @app.exception_handler(LeverError)
    async def lever(_: Request, exc: LeverError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(Busy)
    async def busy(_: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=429, headers={"Retry-After": "5"})

    @app.exception_handler(UnknownJob)
    async def unknown_job(_: Request, exc: UnknownJob) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(RunRefused)
    async def refused(_: Request, exc: RunRefused) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(RunFailed)
    async def failed(_: Request, exc: RunFailed) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=500)

    @app.exception_handler(StoreError)
    async def store(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"error": f"run store: {exc}"}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        for error in errors:
            if error.get("type") == "json_invalid":
                reason = (error.get("ctx") or {}).get("error", "cannot parse it")
                at = error.get("loc", ())[-1]
                return JSONResponse(
                    {"error": f"request body is not valid JSON: {reason} (at character {at})"},
                    status_code=400,
                )
        details = [
            {"at": ".".join(str(part) for part in error.get("loc", ())),
             "problem": str(error.get("msg", ""))}
            for error in errors
        ]
        summary = "; ".join(f"{d['at']}: {d['problem']}" for d in details)
        return JSONResponse({"error": f"invalid request: {summary}", "details": details},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = {404: "not found", 405: "method not allowed"}.get(exc.status_code,
                                                                   str(exc.detail))
        return JSONResponse({"error": message}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
