"""Run the edge: `python -m api`."""

from __future__ import annotations

import logging
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI

from api import frames
from api.deps import EdgeState
from api.lifecycle import RESTART_REASON
from api.logs import uvicorn_log_config
from api.main import create_app
from foundations.settings import Settings, get_settings
from foundations.tracing import configure_logging, configure_tracing

logger = logging.getLogger("api")


class GracefulServer(uvicorn.Server):
    """uvicorn, but on SIGTERM every socket is told why it closes before the server stops.

    uvicorn alone closes sockets with 1012 and no reason; this says what to do about it.
    """

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Stop accepting first, so no socket opens after the others were closed.
        for server in self.servers:
            server.close()
        edge: EdgeState | None = getattr(self._app.state, "edge", None)
        if edge is not None and len(edge.sockets):
            logger.info("closing %d sockets with 1012: the server is restarting", len(edge.sockets))
            await edge.sockets.close_all(frames.CLOSE_SERVICE_RESTART, RESTART_REASON)
        await super().shutdown(sockets)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How the edge runs under uvicorn (the app aside)."""
    return {
        "host": settings.api_host,
        "port": settings.api_port,
        "ws": "websockets-sansio",
        "ws_max_size": settings.max_frame_bytes,
        "ws_per_message_deflate": False,
        "log_level": "info",
        "log_config": uvicorn_log_config(),
    }


def main() -> None:
    settings = get_settings()
    configure_logging()
    configure_tracing(settings, "chat-api")
    app = create_app(settings)
    GracefulServer(uvicorn.Config(app, **uvicorn_options(settings)), app).run()


if __name__ == "__main__":
    main()
