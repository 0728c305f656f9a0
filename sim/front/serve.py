"""`./dev app`: the page (`sim.front.page`) served by Solara on 127.0.0.1, once the port is
known to be a number and free (docs/page.md)."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from collections.abc import Sequence

HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class PortError(ValueError):
    """A port that cannot serve the page: the option, the value, what is allowed."""


def parse_port(text: str) -> int:
    """`--port`'s value as a port number, or PortError naming what is allowed."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535 or str(text).strip() != str(port):
        raise PortError(f"--port: got {text!r}; allowed: a whole number from 1 to 65535")
    return port


def check_free(port: int, host: str = HOST) -> None:
    """PortError when another program listens on `host`:`port` (or it cannot be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            taken = exc.errno == errno.EADDRINUSE
            why = "another program is using it" if taken else exc.strerror
            raise PortError(
                f"--port: got {port}, {why}; allowed: a free port (e.g. --port {port + 1})"
            ) from None


def solara_command(port: int) -> list[str]:
    """The command that serves the page, as this Python runs Solara."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.front.page",
        "--host",
        HOST,
        "--port",
        str(port),
        "--production",
        "--no-check-version",
        "--no-open",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Check the port, say where the page is, then become Solara's server."""
    parser = argparse.ArgumentParser(prog="./dev app", description=__doc__)
    parser.add_argument("--port", default=str(DEFAULT_PORT), help="default %(default)s")
    options = parser.parse_args(argv)
    try:
        port = parse_port(options.port)
        check_free(port)
    except PortError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"the page: http://{HOST}:{port}/ (Ctrl-C stops it)", flush=True)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("MPLBACKEND", "Agg")
    command = solara_command(port)
    os.execv(command[0], command)
    return 0  # not reached: the process is Solara's now


if __name__ == "__main__":
    sys.exit(main())
