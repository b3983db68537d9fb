"""Serve an app exactly as the API is served: `python -m benchmarks.baselines.serve APP`.

APP is `echo` (the bare-edge baseline) or `api` (the platform's own app). The uvicorn settings
are taken from api/__main__.py itself, so the echo follows whatever the API uses. `--ws` swaps only the WebSocket
implementation, to measure what that one setting changes.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import uvicorn

import api.__main__
from foundations.settings import get_settings

APPS = {"echo": "benchmarks.baselines.echo:create_app", "api": "api.main:create_app"}
WS_IMPLEMENTATIONS = ("websockets", "websockets-sansio")


def api_uvicorn_settings() -> dict[str, Any]:
    """The options api/__main__.py runs uvicorn with (the app aside)."""
    return api.__main__.uvicorn_options(get_settings())


def other_ws(ws: str) -> str:
    """The other WebSocket implementation than `ws`."""
    return next(each for each in WS_IMPLEMENTATIONS if each != ws)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--ws", choices=WS_IMPLEMENTATIONS, help="default: the API's")
    args = parser.parse_args()
    settings = api_uvicorn_settings()
    if args.ws:
        settings["ws"] = args.ws
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(APPS[args.app], factory=True, **settings)


if __name__ == "__main__":
    main()
