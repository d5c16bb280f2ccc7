"""Contacts, contact lists and CSV imports (models registered under the `messaging` app)."""
