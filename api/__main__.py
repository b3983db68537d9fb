"""Run the edge: `python -m api`."""

from __future__ import annotations

import logging

import uvicorn

from api.logs import uvicorn_log_config
from foundations.settings import get_settings


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        ws="websockets-sansio",
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,
        # The client address comes from TRUSTED_PROXIES alone (api/client_address.py), not
        # from uvicorn's own reading of forwarding headers.
        proxy_headers=False,
        log_level="info",
        log_config=uvicorn_log_config(),
    )


if __name__ == "__main__":
    main()
