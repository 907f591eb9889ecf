"""The admin's FastAPI app, mounted at /admin by the help desk's web process (helpdesk/web.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from admin.db import Database
from admin.notices import broadcasts_on
from admin.routes import articles, auth, dashboard, inbox, notices, users
from admin.web import AdminState, SignInRequired, make_templates, prefix, render
from helpdesk.settings import Settings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)

# Defence in depth for pages that show residents' text: even if something slipped past
# autoescaping, no inline or foreign script runs, and no other site can frame the admin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def open_knowledge(settings: Settings) -> Any:
    """The knowledge repository on the help desk's database, with the machine-translation
    engines for drafts."""
    from knowledge.repository import open_repository
    from translation.service import default_service

    return open_repository(settings.db_url, translator=default_service(
        cache_path=settings.data_dir / "translation-cache.sqlite3"))


def create_app(settings: Settings, knowledge: Any = None) -> FastAPI:
    app = FastAPI(title="Help desk admin", docs_url=None, redoc_url=None, openapi_url=None)
    database = Database(settings.db_url)
    app.state.admin = AdminState(settings, database, knowledge, make_templates())
    # Notices to residents (bot/broadcast.py), on the same engine as the admin's own tables.
    app.state.broadcasts = broadcasts_on(database)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, dashboard, users, inbox, articles, notices):
        app.include_router(module.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(SignInRequired)
    async def to_login(request: Request, _: SignInRequired) -> Response:
        # The visitor sees nothing but the way to the login page.
        path = request.url.path[len(prefix(request)):] if request.method == "GET" else "/"
        target = f"{prefix(request)}/login?next={quote(path or '/')}"
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return Response(status_code=303, headers={"Location": target})

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, error: HTTPException) -> Response:
        return render(request, "error.html", error.status_code, message=error.detail,
                      code=error.status_code)

    return app
