"""How long a notice takes to reach 27,000 residents when Telegram allows 30 messages a second.

The Bot API emulator enforces Telegram's limits (30 messages per second per bot, one per second
per chat, 429 with retry_after beyond them) and the real outbox sender delivers a notice in
eleven languages to N emulated residents. At 30 msg/s, 27,000 residents take at least 900 s
(15 minutes) whatever the sender does, so the bench sends to N residents, measures the
sustained rate, and extrapolates to 27,000; it says which figures are which. Queueing (one
outbox row per resident) is measured for the full 27,000.

    make bench-broadcast                 # N = 1,500, at the default rate and at the ceiling
    .venv/bin/python -m bench.broadcast --residents 3000 --rates 25
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import tempfile
import time
from pathlib import Path

from bench.report import machine, update_section
from bot.broadcast import Broadcasts, Text
from bot.language import SERVED
from bot.outbox import OutboxSender, bot_sender, outbox_bot
from bot.store import Resident, Store
from bot.subscriptions import DISASTER, Subscription
from emulator.app import create_app
from emulator.state import EmulatorState, RateLimits
from helpdesk.logs import configure_logging
from helpdesk.settings import EMULATOR_BOT_TOKEN, BroadcastSettings
from tests.auxil.servers import serving

TARGET = 27_000
TELEGRAM_LIMIT = 30
FIRST_CHAT = 9_300_000_000
NOTICE = {code: Text(f"Bench notice ({code}): heavy rain, stay away from rivers.")
          for code in SERVED}


async def populate(store: Store, count: int) -> None:
    async with store.sessions.begin() as session:
        for index in range(count):
            language = SERVED[index % len(SERVED)]
            session.add(Resident(chat_id=FIRST_CHAT + index, chosen_language=language))
            session.add(Subscription(chat_id=FIRST_CHAT + index, disaster=True, garbage=False,
                                     news=False, language=language))


async def measure_queueing(directory: Path) -> float:
    """Seconds to queue one notice for TARGET residents (one outbox row each)."""
    store = Store(f"sqlite+aiosqlite:///{directory / 'queue.db'}")
    await store.create_schema()
    await populate(store, TARGET)
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(DISASTER, NOTICE, created_by="bench")
    started = time.perf_counter()
    queued = await broadcasts.send(notice_id)
    elapsed = time.perf_counter() - started
    await store.close()
    assert queued == TARGET
    return elapsed


async def measure_sending(directory: Path, residents: int, rate: float,
                          workers: int) -> dict[str, float]:
    state = EmulatorState(EMULATOR_BOT_TOKEN)
    state.limits = RateLimits(per_bot=TELEGRAM_LIMIT, per_chat=1)
    for index in range(residents):
        state.chat(FIRST_CHAT + index)
    store = Store(f"sqlite+aiosqlite:///{directory / f'send-{rate:g}.db'}")
    await store.create_schema()
    await populate(store, residents)
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(DISASTER, NOTICE, created_by="bench")
    await broadcasts.send(notice_id)
    settings = BroadcastSettings(rate_per_s=rate, workers=workers,
                              idle_poll_s=0.05)
    accepted: list[float] = []
    async with serving(create_app(state)) as port:
        bot = outbox_bot(EMULATOR_BOT_TOKEN, f"http://127.0.0.1:{port}", workers)
        await bot.initialize()
        send = bot_sender(bot)

        async def timed_send(chat_id: int, text: str) -> int:
            message_id = await send(chat_id, text)
            accepted.append(time.monotonic())
            return message_id

        sender = OutboxSender(store, timed_send, settings)
        started = time.monotonic()
        await sender.run(until_empty=True)
        finished = time.monotonic()
        await bot.shutdown()
    progress = await broadcasts.progress(notice_id)
    await store.close()
    copies = [sum(1 for e in state.chats[FIRST_CHAT + i].events if e.direction == "out")
              for i in range(residents)]
    if progress.sent != residents or set(copies) != {1}:
        raise SystemExit(f"delivery incomplete: {progress.counts}, copies {set(copies)}")
    accepted.sort()
    busiest = max(bisect.bisect_left(accepted, t + 1.0) - i for i, t in enumerate(accepted))
    sustained = (len(accepted) - 1) / (accepted[-1] - accepted[0])
    return {"wall_s": finished - started, "sustained": sustained,
            "refused": float(state.limits.refused), "busiest": float(busiest),
            "final_rate": sender.pacer.rate_per_s}


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min ({seconds:,.0f} s)"


async def run(residents: int, rates: list[float], workers: int) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        queueing = await measure_queueing(directory)
        results = {rate: await measure_sending(directory, residents, rate, workers)
                   for rate in rates}
    floor = TARGET / TELEGRAM_LIMIT
    command = f"python -m bench.broadcast --residents {residents} --rates " + \
        " ".join(f"{r:g}" for r in rates) + f" --workers {workers}"
    lines = [
        "## Broadcast to 27,000 residents (`make bench-broadcast`)",
        "",
        f"Command: `make bench-broadcast` (runs `.venv/bin/{command}`). Machine: {machine()}. "
        f"The Bot API emulator enforces Telegram's limits ({TELEGRAM_LIMIT} messages per second "
        "per bot, 1 per second per chat, 429 with retry_after beyond them); the bot's outbox "
        f"sender (bot/outbox.py, {workers} workers, SQLite) delivers one disaster notice in "
        "11 languages, and every resident is checked to have exactly one copy.",
        "",
        (f"**Measured**: sending to all {TARGET:,} residents, and queueing (one outbox row per "
         f"resident); the time for {TARGET:,} = queueing + sending. "
         if residents >= TARGET else
         f"**Measured**: sending to {residents:,} residents, and queueing (one outbox row per "
         f"resident) for all {TARGET:,}. **Extrapolated**: the time for {TARGET:,} = queueing + "
         f"{TARGET:,} ÷ the measured sustained rate. ")
        + f"Floor at Telegram's limit: {TARGET:,} ÷ {TELEGRAM_LIMIT}/s = {minutes(floor)}.",
        "",
        "| sender rate | measured: wall time for "
        f"{residents:,} | measured: sustained rate | 429s from the emulator | busiest second "
        f"| pacer's rate at the end | {'measured' if residents >= TARGET else 'extrapolated'}: "
        f"{TARGET:,} residents | vs the 15-min floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rate, result in results.items():
        total = queueing + (result["wall_s"] if residents >= TARGET
                            else TARGET / result["sustained"])
        default_rate = BroadcastSettings.model_fields["rate_per_s"].default
        label = f"{rate:g} msg/s" + (" (default: leaves room for replies)"
                                     if rate == default_rate
                                     else " (at the ceiling)" if rate >= TELEGRAM_LIMIT else "")
        lines.append(f"| {label} | {result['wall_s']:.1f} s | {result['sustained']:.2f} msg/s "
                     f"| {result['refused']:.0f} | {result['busiest']:.0f} "
                     f"| {result['final_rate']:.1f} msg/s | {minutes(total)} "
                     f"| {total / floor:.2f}× |")
    lines += ["", f"- Queueing the notice for {TARGET:,} residents (measured): {queueing:.1f} s",
              "- The default rate stays below Telegram's limit on purpose: the bot's own replies "
              "share the same 30 msg/s, and a broadcast must not starve them.",
              "- Each 429 silences the sender for retry_after (at least 1 s) and slows its pacer "
              "by a tenth: a sender set at the ceiling settles just under it instead of drawing "
              "a 429 every few seconds.",
              "- \"Busiest second\": the most answers the sender got within any one second "
              "(answers, not arrivals, so network jitter can show one more than Telegram "
              "counted)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast")
    parser.add_argument("--residents", type=int, default=1500)
    parser.add_argument("--rates", type=float, nargs="+",
                        default=[BroadcastSettings.model_fields["rate_per_s"].default,
                                 float(TELEGRAM_LIMIT)])
    parser.add_argument("--workers", type=int,
                        default=BroadcastSettings.model_fields["workers"].default)
    args = parser.parse_args()
    configure_logging("WARNING")  # the 429s; not every row's outcome
    markdown = asyncio.run(run(args.residents, args.rates, args.workers))
    update_section("broadcast", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
