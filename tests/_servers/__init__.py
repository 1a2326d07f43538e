"""Servers the tests start on 127.0.0.1, as session fixtures (imported by tests/conftest.py)."""
