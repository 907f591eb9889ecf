"""Rasa custom actions: answer from the knowledge base, give emergency numbers, hand off."""
