"""`irp codec-server`: serve Temporal's remote codec protocol alone, for the UI and the `temporal` CLI."""

from __future__ import annotations

import logging

from irp.cli.common import console, fail
from irp.codec import CodecError, build_codec
from irp.codec_server import CodecServer, CodecServerError, codec_port, load_token, token_location, ui_origins
from irp.settings import load_settings


def codec_server() -> None:
    """Run the codec server on IRP_CODEC_HOST:IRP_CODEC_PORT (127.0.0.1:8234 by default) until Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    try:
        server = CodecServer(build_codec(settings), load_token(settings), ui_origins(settings), codec_port())
    except (CodecError, CodecServerError) as error:
        fail(str(error))

    console.print(f"Codec server: {server.endpoint} (bearer token in {token_location(settings)})", markup=False, highlight=False)
    console.print(f"Temporal UI codec endpoint: {server.endpoint}/<token>", markup=False, highlight=False)
    console.print("Press Ctrl-C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
