"""Campaigns: one text to contact lists, and the engine that sends each recipient once."""
