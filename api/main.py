"""The FastAPI app: `uvicorn api.main:app` (or `make serve`, `make run`).

The app loads the model once at start-up, hands inference to the micro-batcher, and turns every failure into a
JSON error with the request id — never a stack trace.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from discourse.dashboard import DashboardService
from discourse.encoder import EmbeddingCache
from discourse.pipeline.jobs import JobRunner
from discourse.model.loading import load_model
from discourse.settings import embedding_cache_path, model_dir
from discourse.store import make_engine, upgrade

from .batcher import MicroBatcher, OneAtATime, freeze_heap, warm_up
from .routes import classify, compare, dashboard, jobs, meta, pages, qdpx, topics
from .routes import annotations as coding  # the name `annotations` is the __future__ import's
from .settings import Settings

log = logging.getLogger("discourse.api")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                   "message": record.getMessage()}
        payload.update(getattr(record, "fields", {}))
        return json.dumps(payload, ensure_ascii=False)


def _configure_logging(json_logs: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonFormatter() if json_logs else logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    _configure_logging(settings.json_logs)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        folder = Path(settings.model_dir) if settings.model_dir else model_dir()
        app.state.model_dir = folder
        app.state.model = load_model(folder, backend=settings.backend)
        warm_up(app.state.model)
        # The store of scored archives: migrated at start-up so /v1/ready can check it (and jobs can use it).
        app.state.store = make_engine(settings.database_url)
        upgrade(app.state.store)
        app.state.dashboard = DashboardService(app.state.store, settings.dashboard_cache_size)
        # The dashboard's columns load in the background: a large store takes seconds, and classification
        # does not need them. A dashboard question asked meanwhile waits for the load.
        threading.Thread(target=_warm_dashboard, args=(app.state.dashboard,), name="dashboard-warm",
                         daemon=True).start()
        # Jobs read only regular files inside the data roots, checked again for every file a folder expands to.
        app.state.jobs = JobRunner(app.state.store, lambda: app.state.model, roots=settings.data_roots)
        app.state.jobs.start()  # takes up jobs whose server died
        app.state.batcher = MicroBatcher(app.state.model, settings.batch_max_items, settings.batch_wait_ms,
                                         settings.language_check, settings.batch_max_tokens)
        await app.state.batcher.start()
        # Echo's embeddings: the on-disk cache `discourse compare` uses too, without a memory layer that would
        # grow with every sentence the server has compared.
        app.state.echo_cache = EmbeddingCache(embedding_cache_path(), memory=False)
        app.state.compare_turn = OneAtATime(settings.compare_wait_s)
        topics.warm_up()
        freeze_heap()
        log.info("model loaded", extra={"fields": {"model_dir": str(folder),
                                                   "encoder_version": app.state.model.encoder.version}})
        yield
        await app.state.batcher.stop()
        app.state.echo_cache.close()
        app.state.compare_turn.close()
        app.state.jobs.stop()
        app.state.store.dispose()

    app = FastAPI(title="discourse", version="0.1.0", lifespan=lifespan,
                  description="Framing of early parenthood in Dutch texts: supportive, pressuring or neutral, "
                              "with relevance, sub-frames and evidence sentences.")
    app.state.settings = settings
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"])

    # Counts the body as it arrives: a chunked request has no Content-Length to check up front.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, max_json_containers=settings.max_json_containers,
                       max_json_values=settings.max_json_values)

    @app.middleware("http")
    async def request_id_and_body_limit(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = request_id
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            response = JSONResponse({"detail": BodyLimit.message(settings.max_body_bytes),
                                     "request_id": request_id}, status_code=413)
        else:
            response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        log.info(f"{request.method} {request.url.path} {response.status_code}",
                 extra={"fields": {"request_id": request_id, "status": response.status_code,
                                   "ms": round((time.perf_counter() - started) * 1000, 1)}})
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, "request_id": _request_id(request)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        for e in exc.errors():  # a list of texts past schemas.MAX_ITEMS_CEILING: the same 413 as past MAX_ITEMS
            if e.get("type") == "too_long" and tuple(e["loc"]) in (("body", "texts"), ("body", "items")):
                detail = classify.too_many_texts(e["ctx"]["actual_length"], settings.max_items)
                return JSONResponse({"detail": detail, "request_id": _request_id(request)}, status_code=413)
        errors = []
        for e in exc.errors():
            if e.get("type") == "json_invalid":  # loc holds a character position, not a field
                errors.append({"field": "body", "message": f"body is not valid JSON: {e['ctx']['error']}"})
            else:
                # loc is ("query", "date_from") or ("body", "texts", 0): the field is what the caller sent.
                where = [str(p) for p in e["loc"][1:]] if e["loc"] and e["loc"][0] in ("query", "path", "header") \
                    else [str(p) for p in e["loc"] if p != "body"]
                errors.append({"field": ".".join(where) or "body",
                               "message": e["msg"]})
        return JSONResponse({"detail": errors, "request_id": _request_id(request)}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"fields": {"request_id": _request_id(request)}})
        return JSONResponse({"detail": "internal error; the request id is in the server log",
                             "request_id": _request_id(request)}, status_code=500)

    app.include_router(classify.router, prefix="/v1")
    app.include_router(meta.router, prefix="/v1")
    app.include_router(jobs.router, prefix="/v1")
    app.include_router(compare.router, prefix="/v1")
    app.include_router(topics.router, prefix="/v1")
    app.include_router(dashboard.router, prefix="/v1")
    app.include_router(qdpx.router, prefix="/v1")
    app.include_router(coding.router, prefix="/v1")
    pages.mount(app)  # the dashboard page at / and /dashboard
    return app


def _warm_dashboard(dashboard: DashboardService) -> None:
    dashboard.warm()
    freeze_heap()  # its columns join the start-up objects outside the collector's view


#: Request bodies BodyLimit bounds by size only.
BINARY_TYPES = (b"application/zip", b"application/octet-stream", b"application/x-zip-compressed")


class BodyLimit:
    """ASGI middleware: counts request-body bytes as the app receives them and stops at `max_bytes` with a 413
    (an HTTPException raised from `receive`, which FastAPI passes on to the JSON error handler). The
    Content-Length check in the request-id middleware answers declared sizes before any byte is read; this one
    catches bodies that declare none (Transfer-Encoding: chunked) or lie.

    It also bounds what the JSON parser and the request validation would have to build, before they start: they
    run on the event loop, and their time grows with the number of values, not bytes (a 3 MB array of 1,000,000
    numbers as `items` kept the loop, /v1/health included, busy for 16 s; 250,000 small items for 3.5 s; JSON
    nested 100,000 deep). Counted in the raw bytes with `bytes.count` as they arrive: `[` and `{` (objects and
    arrays, which also bound the depth) and `,` (values). Characters inside strings count too, so the bounds are
    generous: real Dutch text has ~1 comma in 90 characters and ~1 bracket in 12,000."""

    def __init__(self, app, max_bytes: int, max_json_containers: int | None = None,
                 max_json_values: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_containers = max_json_containers
        self.max_json_values = max_json_values

    @staticmethod
    def message(max_bytes: int) -> str:
        return f"request body is larger than the limit of {max_bytes:,} bytes (DISCOURSE_API_MAX_BODY_BYTES)"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = containers = separators = 0
        # A binary upload (a .qdpx zip) is no JSON for the parser to build, and compressed bytes hold '[', '{' and
        # ',' at random: only its size is bounded. FastAPI parses no JSON from a body of these types.
        content_type = dict(scope.get("headers") or ()).get(b"content-type", b"")
        binary = content_type.split(b";")[0].strip().lower() in BINARY_TYPES

        async def counted_receive():
            nonlocal received, containers, separators
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > self.max_bytes:
                    raise StarletteHTTPException(413, self.message(self.max_bytes))
                if binary:
                    return message
                containers += body.count(b"[") + body.count(b"{")
                separators += body.count(b",")
                if self.max_json_containers is not None and containers > self.max_json_containers:
                    raise StarletteHTTPException(413, f"request body has more than {self.max_json_containers:,} "
                                                      f"JSON objects and arrays (DISCOURSE_API_MAX_JSON_CONTAINERS)")
                if self.max_json_values is not None and separators >= self.max_json_values:
                    raise StarletteHTTPException(413, f"request body has more than {self.max_json_values:,} JSON "
                                                      f"values (DISCOURSE_API_MAX_JSON_VALUES)")
            return message

        await self.app(scope, counted_receive, send)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


app = create_app()
