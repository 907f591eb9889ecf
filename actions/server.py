"""The rasa-sdk action server, in one process, bound to loopback, with the knowledge base warm.

rasa-sdk's own entry point forks a Sanic worker and binds 0.0.0.0; here the knowledge base loads
once before the first request instead of on it, and follows every publication after that.
"""

from __future__ import annotations

import argparse
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from actions.feedback import feedback_store
from actions.knowledge_client import live_knowledge
from helpdesk.settings import get_settings

ACTION_MODULES = ("actions.language", "actions.answer", "actions.emergency", "actions.handoff",
                  "actions.feedback")


def build_app():
    executor = ActionExecutor()
    for module in ACTION_MODULES:
        executor.register_package(module)
    app = create_app(executor, cors_origins=[])

    @app.before_server_start
    async def _load_knowledge(*_: object) -> None:
        await live_knowledge().start()

    @app.after_server_start
    async def _follow_publications(app: Sanic, *_: object) -> None:
        app.add_task(live_knowledge().poll(get_settings().knowledge_poll_s),
                     name="knowledge-poll")

    @app.before_server_stop
    async def _close(app: Sanic, *_: object) -> None:
        await app.cancel_task("knowledge-poll", raise_exception=False)
        await live_knowledge().repository.close()
        await feedback_store().close()

    return app


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m actions")
    parser.add_argument("--port", type=int, default=settings.action_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=settings.log_level)
    build_app().run(host="127.0.0.1", port=args.port, single_process=True, access_log=False,
                    motd=False)
    return 0
