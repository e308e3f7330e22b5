"""Use cases and the ports they depend on. Imports no framework and no adapter."""
