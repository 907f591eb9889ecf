"""An article as the resident reads it in Telegram (HTML parse mode)."""

from __future__ import annotations

from html import escape

from knowledge.articles import Article, Translation


def article_html(article: Article, text: Translation) -> str:
    parts = [f"<b>{escape(text.title)}</b>\n{escape(text.answer)}"]
    parts.append(f"📍 {escape(text.where)}")
    links = "\n".join(f'🔗 <a href="{escape(str(link.url), quote=True)}">{escape(link.title)}</a>'
                      for link in article.links)
    parts.append(links)
    return "\n\n".join(parts)
