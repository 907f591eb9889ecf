"""A Telegram Bot API emulator: the real bot's HTTP stack runs against it with no internet.

It also plays the resident's Telegram client, for the local chat page, `make ask` and the tests.
"""
