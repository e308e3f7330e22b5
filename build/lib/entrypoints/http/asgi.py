"""The ASGI application uvicorn serves: ``uvicorn entrypoints.http.asgi:app``."""

from entrypoints.http.app import create_app

app = create_app()
