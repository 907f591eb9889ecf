"""`python -m bot`: run the Telegram bot."""

from bot.app import run
from helpdesk.logs import configure_logging
from helpdesk.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
run(settings)
