"""The dashboard's figures, from the bot's own records: turns, tickets and their ratings, and the
residents' 👍 / 👎 on answers."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actions.feedback_store import DOWN, UP, AnswerFeedback
from admin.models import aware, utcnow
from bot.store import Turn
from bot.tickets import Ticket

#: Intents that mean "the resident asked something": the base of the unanswered rate.
QUESTION_INTENTS = {"ask_question", "out_of_scope", "nlu_fallback"}
OUT_OF_SCOPE = {"out_of_scope", "nlu_fallback"}
WAIT_BUCKETS: list[tuple[str, float]] = [("< 5 min", 300), ("5–15 min", 900),
                                         ("15–60 min", 3600), ("1–4 h", 4 * 3600),
                                         ("> 4 h", float("inf"))]


def unanswered_reason(intent: str | None, confidence: float | None, articles: list[str] | None,
                      low_confidence: float) -> str | None:
    """Why a turn counts as unanswered, or None when it was answered (or was no question)."""
    if intent in OUT_OF_SCOPE:
        return "out of scope"
    if confidence is not None and confidence < low_confidence and intent in QUESTION_INTENTS:
        return "low confidence"
    if intent == "ask_question" and not articles:
        return "no article found"
    return None


@dataclass
class Waiting:
    answered: int = 0
    still_waiting: int = 0
    median_s: float | None = None
    p90_s: float | None = None
    buckets: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Dashboard:
    days: list[dt.date]
    languages: list[str]
    per_day: dict[dt.date, Counter[str]]
    top_articles: list[tuple[str, int]]
    questions: int
    unanswered: int
    unanswered_per_day: dict[dt.date, tuple[int, int]]  # (unanswered, questions)
    handoffs_per_day: dict[dt.date, int]
    tickets: int
    waiting: Waiting
    ratings: Counter[int]
    messages: int
    #: Answers rated 👍 and 👎 in the period (a re-rated answer counts once, as last rated).
    thumbs_up: int = 0
    thumbs_down: int = 0

    @property
    def satisfaction(self) -> float | None:
        """The share of rated answers rated 👍."""
        rated = self.thumbs_up + self.thumbs_down
        return self.thumbs_up / rated if rated else None

    @property
    def unanswered_rate(self) -> float | None:
        return self.unanswered / self.questions if self.questions else None

    @property
    def average_rating(self) -> float | None:
        total = sum(self.ratings.values())
        return sum(score * n for score, n in self.ratings.items()) / total if total else None


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def dashboard(session: AsyncSession, days: int, zone: str,
                    low_confidence: float) -> Dashboard:
    tz = ZoneInfo(zone)
    today = utcnow().astimezone(tz).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), tz).astimezone(dt.UTC)
    day_list = [first + dt.timedelta(days=n) for n in range(days)]

    def day(moment: dt.datetime) -> dt.date:
        return aware(moment).astimezone(tz).date()

    rows = (await session.execute(
        select(Turn.created_at, Turn.language, Turn.intent, Turn.confidence, Turn.articles,
               Turn.handoff).where(Turn.created_at >= since))).all()
    per_day: dict[dt.date, Counter[str]] = defaultdict(Counter)
    languages: Counter[str] = Counter()
    articles: Counter[str] = Counter()
    unanswered_per_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    questions = unanswered = 0
    for row in rows:
        when = day(row.created_at)
        per_day[when][row.language] += 1
        languages[row.language] += 1
        reason = unanswered_reason(row.intent, row.confidence, row.articles, low_confidence)
        if row.intent in QUESTION_INTENTS or reason:
            questions += 1
            unanswered_per_day[when][1] += 1
            if reason:
                unanswered += 1
                unanswered_per_day[when][0] += 1
        if row.articles and not reason:
            articles[row.articles[0]] += 1

    tickets = list(await session.scalars(select(Ticket).where(Ticket.created_at >= since)))
    handoffs: Counter[dt.date] = Counter(day(t.created_at) for t in tickets)
    waits = [(aware(t.first_response_at) - aware(t.created_at)).total_seconds()
             for t in tickets if t.first_response_at]
    waiting = Waiting(answered=len(waits),
                      still_waiting=sum(1 for t in tickets if t.first_response_at is None
                                        and t.status != "closed"))
    if waits:
        waiting.median_s = statistics.median(waits)
        waiting.p90_s = _percentile(waits, 0.9)
    lower = 0.0
    for label, upper in WAIT_BUCKETS:
        waiting.buckets.append((label, sum(1 for w in waits if lower <= w < upper)))
        lower = upper
    ratings = Counter(t.rating for t in tickets if t.rating)
    thumbs = Counter(await session.scalars(
        select(AnswerFeedback.rating).where(AnswerFeedback.rated_at >= since)))
    return Dashboard(day_list, [code for code, _ in languages.most_common()], dict(per_day),
                     articles.most_common(10), questions, unanswered,
                     {d: (u, q) for d, (u, q) in unanswered_per_day.items()}, dict(handoffs),
                     len(tickets), waiting, ratings, len(rows),
                     thumbs_up=thumbs[UP], thumbs_down=thumbs[DOWN])
