"""Answers a question from the knowledge base, or offers likely topics when retrieval is unsure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.article_reply import article_html
from actions.knowledge_client import knowledge_base, translator
from actions.meta import SERVED, meta, resident_language, unserved_language
from knowledge.service import KnowledgeBase

# Measured on the held-out retrieval set (bench/data): when the best article holds at least 60 %
# of the two best articles' softmax mass, it was right 233 times out of 240; below that, the
# resident chooses among the three likeliest topics, which held the answer 165 times out of 195.
CONFIDENT_SHARE = 0.6
# No held-out question scored below 0.82, while 6 % of held-out out-of-scope messages did: below
# it the resident is asked to rephrase. e5's cosines separate topics poorly, so it is Rasa's
# out_of_scope intent, not this bound, that keeps most unrelated messages away from here.
RELATED_SCORE = 0.82
MAX_CHOICES = 3


def chosen_article(tracker: Tracker) -> str | None:
    """The article a resident picked from suggested topics (a button's `article` entity)."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "article":
            return str(entity.get("value"))
    return None


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        kb = knowledge_base()
        language = resident_language(tracker)
        picked = chosen_article(tracker)
        # Residents writing a language we do not serve get English and Easy Japanese; the bot has
        # already told them so.
        wanted = unserved_language(tracker) or language
        if picked in kb.articles:
            self._answer(dispatcher, kb, picked, wanted, score=None)
            return []
        hits = kb.search(tracker.latest_message.get("text") or "", k=MAX_CHOICES).hits
        top = hits[0] if hits else None
        runner_up = hits[1].probability if len(hits) > 1 else 0.0
        share = top.probability / (top.probability + runner_up) if top else 0.0
        if top and top.score >= RELATED_SCORE and share >= CONFIDENT_SHARE:
            self._answer(dispatcher, kb, top.article_id, wanted, score=top.score)
        elif top and top.score >= RELATED_SCORE:
            buttons = []
            for hit in hits:
                title = kb.text(hit.article_id, language)[0].title
                buttons.append({"title": title,
                                "payload": f'/ask_question{{"article":"{hit.article_id}"}}'})
            dispatcher.utter_message(response="utter_choose_topic", buttons=buttons,
                                     json_message=meta(answer_language=language, articles=[
                                         h.article_id for h in hits], unsure=True))
        else:
            dispatcher.utter_message(response="utter_no_answer",
                                     json_message=meta(answer_language=language, articles=[],
                                                       unanswered=True))
        return []

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, kb: KnowledgeBase, article_id: str,
                language: str, score: float | None) -> None:
        # `kb` is the version this request started with: a publication meanwhile swaps in a new
        # one, which may no longer hold the article.
        article = kb.articles[article_id]
        shown = kb.shown(article_id, language, translator())
        if shown.fallback and language in SERVED:
            # No text in the resident's language and no engine for it: English and Easy
            # Japanese, and a counselor who speaks their language.
            dispatcher.utter_message(response="utter_not_in_your_language")
        if shown.machine:
            dispatcher.utter_message(response="utter_machine_translated")
        for text, _ in shown.texts:
            dispatcher.utter_message(text=article_html(article, text))
        if shown.original:  # the label above says the original follows
            dispatcher.utter_message(text=article_html(article, shown.original[0]))
        dispatcher.utter_message(json_message=meta(
            articles=[article_id], answer_language=shown.texts[0][1],
            machine_translated=shown.machine, score=score,
            handoff="offered" if shown.fallback else None))
