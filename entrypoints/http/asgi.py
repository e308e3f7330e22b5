"""The ASGI application uvicorn serves: ``uvicorn entrypoints.http.asgi:app``."""

import gc

from entrypoints.http.app import create_app

app = create_app()

# Everything imported and built so far lives as long as the process: move it out of the cyclic
# collector's sight, so a full collection under load walks only what requests allocate instead
# of ~100,000 long-lived objects (~80 ms each time on the benchmark machine). Decision 0028.
gc.collect()
gc.freeze()
