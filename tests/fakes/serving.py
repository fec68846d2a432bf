"""Serving a fake third-party JSON API on 127.0.0.1 (a free port), for the fakes whose `answer`
takes (method, path, lower-cased headers, raw body) and returns (status, headers, JSON body)."""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Delivery:
    """A webhook a fake sent: where, with which headers and body, and the answer's status."""

    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Received:
    """An API request a fake answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 200


Answer = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], Any]]


def json_api_served(answer: Answer) -> tuple[ThreadingHTTPServer, str]:
    """The server (shut it down after the test) and the origin it answers at."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, extra, body = answer(self.command, urlsplit(self.path).path, headers, raw)
            out = json.dumps(body).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = _reply

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
