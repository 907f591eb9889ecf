"""`python -m emulator`: the Bot API emulator and the local chat page on one port."""

from __future__ import annotations

import argparse

import uvicorn

from emulator.app import create_app
from emulator.state import EmulatorState
from helpdesk.logs import configure_logging
from helpdesk.settings import EMULATOR_BOT_TOKEN, get_settings

settings = get_settings()
parser = argparse.ArgumentParser(prog="python -m emulator")
parser.add_argument("--host", default=settings.web_host)
parser.add_argument("--port", type=int, default=settings.web_port)
args = parser.parse_args()
configure_logging(settings.log_level)
uvicorn.run(create_app(EmulatorState(EMULATOR_BOT_TOKEN)), host=args.host, port=args.port,
            log_level="warning")
