"""`python -m translation engines | translate | install-package` — see `--help`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from translation.engines import ArgosEngine, FastTranslateEngine, TranslationError, install_package
from translation.service import TranslationService, default_service


def _engines(args: argparse.Namespace) -> int:
    service = TranslationService([FastTranslateEngine(), ArgosEngine(args.argos_dir)],
                                 cache=None)
    for engine in service.engines:
        pairs = " ".join(f"{src}→{tgt}" for src, tgt in sorted(engine.pairs())) or "(none)"
        print(f"{engine.name} {engine.version}: {pairs}")
        if isinstance(engine, ArgosEngine):
            print(f"  packages: {engine.packages_dir}")
    direct = {pair for engine in service.engines for pair in engine.pairs()}
    via = sorted(service.pairs() - direct)
    if via:
        print("through en: " + " ".join(f"{src}→{tgt}" for src, tgt in via))
    return 0


def _translate(args: argparse.Namespace) -> int:
    text = " ".join(args.text) if args.text else sys.stdin.read()
    service = default_service(argos_dir=args.argos_dir, use_cache=not args.no_cache)
    result = service.translate(text, args.src, args.tgt, engine=args.engine)
    if args.json:
        print(json.dumps({"text": result.text, "source_language": result.source_language,
                          "target_language": result.target_language, "engine": result.engine,
                          "machine": result.machine, "pivot": result.pivot,
                          "cached": result.cached}, ensure_ascii=False))
    else:
        print(result.text)
        via = f" via {result.pivot}" if result.pivot else ""
        print(f"[machine translation: {result.engine}{via}{', cached' if result.cached else ''}]",
              file=sys.stderr)
    return 0


def _install(args: argparse.Namespace) -> int:
    path = install_package(args.file, args.argos_dir)
    engine = ArgosEngine(args.argos_dir)
    print(f"installed {path}")
    print("pairs: " + " ".join(f"{src}→{tgt}" for src, tgt in sorted(engine.pairs())))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m translation", description=__doc__)
    parser.add_argument("--argos-dir", type=Path, default=None,
                        help="Argos packages directory (default: $ARGOS_PACKAGES_DIR, else "
                             "var/argos-packages)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("engines", help="list engines and their language pairs")
    translate = commands.add_parser("translate", help="translate text (or stdin)")
    translate.add_argument("--from", dest="src", required=True)
    translate.add_argument("--to", dest="tgt", required=True)
    translate.add_argument("--engine", default=None, help="force one engine by name")
    translate.add_argument("--no-cache", action="store_true")
    translate.add_argument("--json", action="store_true")
    translate.add_argument("text", nargs="*")
    install = commands.add_parser("install-package", help="install an .argosmodel file")
    install.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    handler = {"engines": _engines, "translate": _translate, "install-package": _install}
    try:
        return handler[args.command](args)
    except TranslationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
