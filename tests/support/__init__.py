"""Helpers shared by several test modules (tests do not import each other)."""
