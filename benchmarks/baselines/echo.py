"""The bare edge: a FastAPI WebSocket echo, served by `benchmarks.baselines.serve` under the
API's own uvicorn settings."""

from __future__ import annotations

from fastapi import FastAPI, WebSocket, WebSocketDisconnect


def create_app() -> FastAPI:
    app = FastAPI(title="Echo baseline")

    @app.websocket("/ws/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            return

    return app
