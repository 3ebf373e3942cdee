"""Dialogs: pairing a phone, settings."""
