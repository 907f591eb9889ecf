"""Replaces one benchmark's section of BENCHMARKS.md, leaving the others as they are."""

from __future__ import annotations

import datetime as dt
import platform
import re

from helpdesk.settings import ROOT

BENCHMARKS = ROOT / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nEvery figure here was produced by the command shown above it.\n"


def machine() -> str:
    import os

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{dt.date.today().isoformat()}")


def update_section(name: str, markdown: str) -> None:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else HEADER
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else \
        f"{text.rstrip()}\n\n{block}\n"
    BENCHMARKS.write_text(text, encoding="utf-8")
