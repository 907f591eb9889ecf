"""Prometheus metrics of the bot process, served at /metrics by the webhook server."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RECEIVED = Counter("helpdesk_updates_received_total",
                   "Updates from Telegram, by whether they were new or a redelivery", ["outcome"])
UPDATES = Counter("helpdesk_updates_processed_total",
                  "Stored updates taken from the inbox, by outcome", ["outcome"])
WEBHOOK_SECONDS = Histogram("helpdesk_webhook_seconds",
                            "Time from a webhook request's arrival to its acknowledgement")
