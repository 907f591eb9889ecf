"""`make run`: Rasa, the action server, the bot, and the web process: the staff admin at /admin
and (without a token) the local chat page.

Ctrl-C stops everything this started, in reverse order.
"""

from __future__ import annotations

import signal
import sys
import time

from helpdesk.logs import configure_logging
from helpdesk.model import ensure_model
from helpdesk.processes import Supervisor, action_service, bot_service, rasa_service, web_service
from helpdesk.settings import get_settings


def _interrupt(signum: int, _: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    settings = get_settings()
    configure_logging(settings.log_level)
    # Explicitly, because a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    supervisor = Supervisor(settings.data_dir / "logs")
    try:
        model = ensure_model(settings)
        print("Starting the action server and Rasa (about 30 s)…", file=sys.stderr, flush=True)
        # The web process serves the admin always, and the Bot API emulator without a token.
        backends = [supervisor.start(action_service(settings)),
                    supervisor.start(rasa_service(settings, model)),
                    supervisor.start(web_service(settings), to_terminal=True)]
        for running in backends:
            supervisor.wait_ready(running)
        supervisor.start(bot_service(settings), to_terminal=True)
        if settings.emulated:
            print(f"\n  No TELEGRAM_BOT_TOKEN: chat with the bot at {settings.web_url}",
                  file=sys.stderr, flush=True)
        print(f"\n  Staff admin: {settings.web_url}/admin (`make create-admin` makes the first "
              "account)\n", file=sys.stderr, flush=True)
        print("  Logs of Rasa and the actions: var/logs/. Ctrl-C stops everything.\n",
              file=sys.stderr, flush=True)
        while True:
            for running in supervisor.running:
                if running.process.poll() is not None:
                    print(f"{running.service.name} stopped (exit {running.process.returncode}); "
                          "stopping the rest.", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping…", file=sys.stderr)
        return 0
    finally:
        # A second Ctrl-C (or make forwarding the signal) must not cut the orderly stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()
        print("Stopped.", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
