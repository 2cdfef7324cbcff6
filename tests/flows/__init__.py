"""Conversation tests: whole stories through the desk, one module per theme of SERVICE.md."""
