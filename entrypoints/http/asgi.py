"""The ASGI application uvicorn serves: ``uvicorn entrypoints.http.asgi:app``.

Each worker process imports this module, so logging is configured here (and by ``serve`` for the
supervising process).
"""

from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.logs import configure_logging

_container = Container()
configure_logging(_container.settings())
app = create_app(_container)
