"""Run the edge: `python -m api`."""

from __future__ import annotations

import uvicorn

from api.logs import uvicorn_log_config
from foundations.settings import get_settings
from foundations.tracing import configure_logging, configure_tracing


def main() -> None:
    settings = get_settings()
    configure_logging()
    configure_tracing(settings, "chat-api")
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
