"""The dashboard page, served by the API app itself so one `uvicorn api.main:app` (or `make run`) gives
both the JSON API and the page that reads it: no second server, no CORS, no build step.

`/` and `/dashboard` answer the same static HTML; its script, styles and nothing else come from
`/dashboard/static/...`. The page asks /v1/dashboard/* and /v1/compare for its data.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

# Next to this package, not relative to the working directory: the server may be started from anywhere.
STATIC_DIR = Path(__file__).parent.parent / "static" / "dashboard"


def mount(app: FastAPI) -> None:
    """Add the page routes and the static files to `app`. Left out of the OpenAPI schema: they are a page, not
    API (and the fuzz tests generate requests from that schema)."""

    async def dashboard_page() -> FileResponse:
        # no-cache: the browser revalidates (ETag), so a new version of the page is seen after an upgrade.
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    for path in ("/", "/dashboard"):
        app.add_api_route(path, dashboard_page, methods=["GET"], include_in_schema=False)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
