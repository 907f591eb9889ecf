"""`python -m bot`: run the Telegram bot (long polling, or a webhook when WEBHOOK_URL is set)."""

import asyncio
import contextlib

from bot.runner import BotRunner
from helpdesk.logs import configure_logging
from helpdesk.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
with contextlib.suppress(KeyboardInterrupt):
    asyncio.run(BotRunner(settings).serve_forever())
