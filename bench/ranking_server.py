"""The limit of the ranking benchmark: a trivial route under uvicorn, in its own process.

``python -m bench.ranking_server --port P --body FILE`` serves FILE's bytes at the ranking path from
a FastAPI route that does nothing else, under the same ``uvicorn.run`` call as ``mpm-cloud serve``
(access log off, uvicorn's default loop and HTTP implementations): the framework's limit for the
same response.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response


def trivial_app(body: bytes) -> FastAPI:
    """One route, same path as the real one, returning ``body`` as it is."""
    app = FastAPI()

    @app.get("/api/v1/rankings")
    async def rankings() -> Response:
        return Response(content=body, media_type="application/json")

    return app


def main() -> int:
    """Serve until terminated."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(
        trivial_app(args.body.read_bytes()),
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_config=None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
