"""`python -m helpdesk.web`: the help desk's one web process on WEB_PORT (8080).

The staff admin is always served at /admin. Without TELEGRAM_BOT_TOKEN the same port also serves
the Bot API emulator and the local chat page at /, as it did before the admin existed, so the bot
and the chat page keep their URLs.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route

from admin.app import create_app as create_admin
from admin.app import open_knowledge
from helpdesk.settings import EMULATOR_BOT_TOKEN, Settings, get_settings


def create_web_app(settings: Settings, knowledge: Any = None) -> Starlette:
    """The admin under /admin and, when emulated, the emulator at /. `knowledge`: a knowledge
    repository to use instead of opening one on the settings' database."""
    admin = create_admin(settings, knowledge)
    routes: list[Any] = [Route("/admin", lambda _: RedirectResponse("/admin/", 308)),
                         Mount("/admin", admin)]
    if settings.emulated:
        from emulator.app import create_app as create_emulator
        from emulator.state import EmulatorState

        routes.append(Mount("/", create_emulator(EmulatorState(EMULATOR_BOT_TOKEN))))
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await admin.state.admin.database.close()
        if knowledge is not None:
            await knowledge.close()

    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    from helpdesk.logs import configure_logging

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m helpdesk.web")
    parser.add_argument("--host", default=settings.web_host)
    parser.add_argument("--port", type=int, default=settings.web_port)
    args = parser.parse_args()
    configure_logging(settings.log_level)
    uvicorn.run(create_web_app(settings, open_knowledge(settings)), host=args.host,
                port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
