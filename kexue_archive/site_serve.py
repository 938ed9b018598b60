"""``kexue-archive serve``: the site over HTTP on this machine only.

The site works from file:// without it; this is for browsers or tools that
want http://. Bound to 127.0.0.1 so nothing outside the machine can reach it.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .errors import UserError

HOST = "127.0.0.1"


class _Handler(SimpleHTTPRequestHandler):
    """Static files with the right types for the site's assets, logging one line per request."""

    extensions_map = {  # noqa: RUF012  # the base class declares it as a plain attribute
        **SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".woff2": "font/woff2",
        ".html": "text/html; charset=utf-8", ".css": "text/css",
    }

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} {format % args}", file=sys.stderr)


def server(site: Path, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``site`` on 127.0.0.1:``port`` (0 picks a free port)."""
    if not (site / "index.html").is_file():
        raise UserError(f"no site at {site}", "run `python build_site.py` (or `kexue-archive build`) first")
    handler = functools.partial(_Handler, directory=str(site))
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise UserError(f"cannot listen on {HOST}:{port}: {exc.strerror}", "pick another port with --port N") from exc


def serve(site: Path, port: int) -> int:
    """Serve until interrupted; prints the address first."""
    httpd = server(site, port)
    print(f"serving {site} at http://{HOST}:{httpd.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    with httpd, contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()
    return 0
