"""Numbers fixtures live in tests/conftest.py (prices, live_tenant)."""
