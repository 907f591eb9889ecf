"""Custom Rasa components (run under the Rasa venv, Python 3.10; named in config.yml by path)."""
