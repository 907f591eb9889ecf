"""The Telegram frontend: commands, language, relaying residents' messages to Rasa and back."""
