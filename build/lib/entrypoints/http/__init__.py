"""The HTTP entrypoint: a thin FastAPI adapter over the use cases."""
