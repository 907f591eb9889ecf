"""Editorial checks on the seed articles, beyond what the schema enforces."""

from __future__ import annotations

from collections.abc import Iterable

from knowledge.articles import MAJOR_LANGUAGES, SERVED_LANGUAGES, Article, TextStatus

#: The 40 daily-life topics the help desk covers; article files are named after these IDs.
TOPIC_IDS: tuple[str, ...] = (
    "resident-registration", "residence-card", "visa-renewal", "permanent-residency", "my-number",
    "national-health-insurance", "health-checkups", "pension", "pension-lump-sum-withdrawal",
    "medical-care", "night-holiday-emergency-clinic", "emergency-numbers",
    "disaster-earthquake-tsunami", "evacuation-shelters", "garbage-sorting", "oversized-garbage",
    "resident-tax", "income-tax-return", "child-allowance", "pregnancy-childbirth",
    "nursery-school",
    "school-enrollment", "japanese-classes", "housing-renting", "municipal-housing",
    "labor-consultation", "job-seeking", "drivers-license", "bicycle-rules", "consultation-center",
    "interpreter-services", "marriage-divorce-registration", "death-procedures",
    "domestic-violence-help", "mental-health-help", "bank-account", "mobile-phone",
    "seal-registration", "moving-out-of-japan", "traffic-accident",
)


def min_questions(language: str) -> int:
    return 5 if language in MAJOR_LANGUAGES else 3


def article_problems(article: Article) -> list[str]:
    problems = []
    if article.id not in TOPIC_IDS:
        problems.append(f"{article.id}: not one of the agreed topic IDs")
    for language in SERVED_LANGUAGES:
        text = article.translations.get(language)
        if text is None:
            problems.append(f"{article.id}/{language}: missing")
            continue
        if text.status is not TextStatus.CURATED:
            problems.append(f"{article.id}/{language}: {text.status.value}, not curated")
        if len(set(text.questions)) < min_questions(language):
            problems.append(f"{article.id}/{language}: {len(text.questions)} example questions, "
                            f"needs {min_questions(language)}")
    return problems


def collection_problems(articles: Iterable[Article]) -> list[str]:
    articles = list(articles)
    problems = [p for article in articles for p in article_problems(article)]
    seen: dict[str, str] = {}
    for article in articles:
        for text in article.translations.values():
            for question in text.questions:
                key = question.casefold()
                if key in seen and seen[key] != article.id:
                    problems.append(f"{article.id}: question {question!r} also in {seen[key]}")
                seen[key] = article.id
    return problems
