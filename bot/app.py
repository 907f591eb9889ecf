"""Builds the python-telegram-bot Application: handlers, services, commands.

Updates reach it from the inbox (bot.runner), never from python-telegram-bot's own Updater.
"""

from __future__ import annotations

import structlog
from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import handlers, handoff, proactive, retention, staff, ticket_watch
from bot.counselor_translation import LazyTranslator
from bot.delivery_mark import MarkingRateLimiter
from bot.flood import FloodGuard
from bot.rasa_client import RasaClient
from bot.services import SERVICES_KEY, Services
from bot.store import Store
from helpdesk.settings import Settings

log = structlog.get_logger(__name__)

COMMANDS = [("start", "Start"), ("language", "Choose your language"), ("help", "Help"),
            ("human", "Talk to a counselor"), ("bot", "Back to the automatic answers"),
            ("subscribe", "Alerts and garbage-day reminders"),
            ("unsubscribe", "Stop alerts and reminders"),
            ("forget", "Erase what the help desk keeps about you")]


def build_services(settings: Settings) -> Services:
    return Services(settings=settings, store=Store(settings.db_url),
                    rasa=RasaClient(settings.rasa_url, settings.rasa_auth_token(),
                                    settings.rasa_timeout_s),
                    translator=LazyTranslator() if settings.handoff_machine_translation
                    else None)


def build_application(settings: Settings, svc: Services) -> Application:
    builder = (Application.builder().token(settings.bot_token)
               .rate_limiter(MarkingRateLimiter(max_retries=3))
               .updater(None)
               .post_init(_post_init).post_shutdown(_post_shutdown))
    if settings.emulated:
        builder = builder.base_url(f"{settings.web_url}/bot").base_file_url(
            f"{settings.web_url}/file/bot")
    application = builder.build()
    application.bot_data[SERVICES_KEY] = svc

    # Group -1 runs before the handlers below and can stop them (see handlers.flood_guard).
    application.bot_data[handlers.FLOOD_KEY] = FloodGuard(settings.flood_messages,
                                                          settings.flood_window_s)
    application.add_handler(TypeHandler(Update, handlers.flood_guard), group=-1)

    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", handlers.start, private))
    application.add_handler(CommandHandler("language", handlers.choose_language, private))
    application.add_handler(CommandHandler("help", handlers.help_command, private))
    application.add_handler(CommandHandler("human", handlers.human, private))
    application.add_handler(CommandHandler("bot", handoff.back_to_bot, private))
    application.add_handler(CommandHandler("subscribe", handlers.subscribe_command, private))
    application.add_handler(CommandHandler("unsubscribe", handlers.unsubscribe_command, private))
    application.add_handler(CommandHandler("forget", handlers.forget_command, private))
    if settings.staff_chat_id is not None:
        _add_staff_handlers(application, settings.staff_chat_id)
    application.add_handler(MessageHandler(private & filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(private & filters.UpdateType.EDITED_MESSAGE,
                                           handlers.edited))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.text_message))
    application.add_handler(MessageHandler(private & ~filters.TEXT, handlers.not_text))
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_error_handler(handlers.on_error)
    return application


def _add_staff_handlers(application: Application, staff_chat_id: int) -> None:
    """The staff supergroup: /close and /queue, and counselors' messages in ticket topics
    (new messages only: an edit would otherwise reach the resident twice)."""
    staff_chat = filters.Chat(chat_id=staff_chat_id)
    application.add_handler(CommandHandler("close", staff.close, staff_chat))
    application.add_handler(CommandHandler("queue", staff.queue, staff_chat))
    application.add_handler(MessageHandler(
        staff_chat & filters.UpdateType.MESSAGE & filters.IS_TOPIC_MESSAGE & ~filters.COMMAND
        & ~filters.StatusUpdate.ALL, staff.relay_to_resident))


async def _post_init(application: Application) -> None:
    svc: Services = application.bot_data[SERVICES_KEY]
    await svc.store.create_schema()
    settings = svc.settings
    if settings.staff_chat_id is not None and application.job_queue is not None:
        application.job_queue.run_repeating(
            ticket_watch.flag_waiting, interval=settings.handoff_check_interval_s,
            first=settings.handoff_check_interval_s, name=ticket_watch.JOB_NAME)
    if application.job_queue is not None:
        # Deletes are idempotent, so every replica may run it.
        application.job_queue.run_repeating(retention.purge, interval=retention.INTERVAL_S,
                                            first=60, name=retention.JOB_NAME)
    await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
    await proactive.start(application)


async def _post_shutdown(application: Application) -> None:
    await proactive.stop(application)
    svc: Services = application.bot_data[SERVICES_KEY]
    await svc.rasa.close()
    await svc.store.close()
