"""Adapters: one folder or module per technology, each implementing an application port."""
