"""Sub-commands of `python -m knowledge`."""

from __future__ import annotations

import argparse
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check the seed articles")
    validate.add_argument("ids", nargs="*", help="article IDs (default: all)")
    validate.add_argument("--content", type=Path, default=CONTENT_DIR)
    validate.set_defaults(run=_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
