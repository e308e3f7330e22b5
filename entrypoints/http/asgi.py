"""The ASGI application uvicorn serves: ``uvicorn entrypoints.http.asgi:app``.

Each worker process imports this module, so logging is configured here (and by ``serve`` for the
supervising process).
"""

import gc

from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.logs import configure_logging

_container = Container()
configure_logging(_container.settings())
app = create_app(_container)

# Everything imported and built so far lives as long as the process: move it out of the cyclic
# collector's sight, so a full collection under load walks only what requests allocate instead
# of ~100,000 long-lived objects (~80 ms each time on the benchmark machine). Decision 0028.
gc.collect()
gc.freeze()
