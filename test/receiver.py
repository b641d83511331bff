#!/usr/bin/python3
"""A webhook receiver for the tests, on 127.0.0.1: records every request as a
JSON line and checks the Frappe signature the way receivers are told to
(base64 HMAC-SHA256 of the raw body, hmac.compare_digest).

  receiver.py PORT LOGFILE [SECRET]

What it answers depends on the path:
  /ok...            200 "ok"
  /status/NNN       that status (e.g. 410, 500)
  /retry-after/S    429 with Retry-After: S
  /flaky/N/KEY      503 for the first N requests of KEY, then 200
  /hang/S           sleeps S seconds before answering 200
Each log line: {"path", "method", "headers", "body" (text), "sig_ok" (true,
false, or null when unsigned), "t" (arrival, epoch seconds)}.
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
LOG = sys.argv[2]
SECRET = sys.argv[3].encode() if len(sys.argv) > 3 else None
lock = threading.Lock()
counts = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        sig = self.headers.get("X-Frappe-Webhook-Signature")
        sig_ok = None
        if sig is not None and SECRET is not None:
            want = base64.b64encode(hmac.new(SECRET, body, hashlib.sha256).digest()).decode()
            sig_ok = hmac.compare_digest(want, sig)
        rec = {"path": self.path, "method": self.command, "headers": dict(self.headers.items()),
               "body": body.decode("utf-8", "replace"), "sig_ok": sig_ok, "t": time.time()}
        with lock:
            with open(LOG, "a") as f:
                f.write(json.dumps(rec) + "\n")
        parts = self.path.strip("/").split("/")
        status, extra = 200, {}
        if parts[0] == "status":
            status = int(parts[1])
        elif parts[0] == "retry-after":
            status, extra = 429, {"Retry-After": parts[1]}
        elif parts[0] == "flaky":
            with lock:
                counts[parts[2]] = counts.get(parts[2], 0) + 1
                status = 503 if counts[parts[2]] <= int(parts[1]) else 200
        elif parts[0] == "hang":
            time.sleep(float(parts[1]))
        out = b"ok" if status < 300 else b"no"
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = do_PUT = do_DELETE = do_GET = handle_any


ThreadingHTTPServer.daemon_threads = True
srv = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("listening", flush=True)
srv.serve_forever()
