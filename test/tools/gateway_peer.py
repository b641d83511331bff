#!/usr/bin/python3
"""gateway_peer.py -- a local stand-in for Stripe's and Razorpay's APIs (t/180),
on 127.0.0.1, speaking their documented request and answer shapes:
  POST /v1/checkout/sessions   (Stripe: form body, Bearer key, Idempotency-Key)
  POST /v1/orders, /v1/payment_links   (Razorpay: JSON body, HTTP Basic)
  GET  /state   what it was sent (each request's path, headers, parsed body)
  POST /mode    the next answers: ok | 500 | 401 | slow | 500final (500 with
                Stripe-Should-Retry: false) | <status>x<n> (the next n calls
                answer <status>, 429 with Retry-After: 1; then ok)
Usage: gateway_peer.py <ports file> <stripe secret key> <razorpay key id> <razorpay secret>"""
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

PORTS, SK, RZP_ID, RZP_SECRET = sys.argv[1:5]
LOCK = threading.Lock()
STATE = {"requests": [], "mode": "ok", "n": 0}
IDEMPOTENT = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/state":
            with LOCK:
                return self.answer(200, STATE)
        self.answer(404, {"error": {"message": "no such route"}})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/mode":
            with LOCK:
                STATE["mode"] = raw.decode()
            return self.answer(200, {})
        with LOCK:
            mode = STATE["mode"]
            STATE["n"] += 1
            n = STATE["n"]
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True)) if self.path == "/v1/checkout/sessions" else None
            STATE["requests"].append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "form": form, "json": json.loads(raw) if form is None and raw else None})
        if mode == "slow":
            time.sleep(3)
        if mode == "500":
            return self.answer(500, {"error": {"message": "the gateway is broken"}})
        if mode == "500final":
            return self.answer(500, {"error": {"message": "the gateway is broken"}}, {"Stripe-Should-Retry": "false"})
        if "x" in mode:
            status, left = (int(v) for v in mode.split("x"))
            with LOCK:
                STATE["mode"] = "%dx%d" % (status, left - 1) if left > 1 else "ok"
            return self.answer(status, {"error": {"message": "try again later"}},
                               {"Retry-After": "1"} if status == 429 else {})
        if self.path == "/v1/checkout/sessions":
            if self.headers.get("Authorization") != "Bearer " + SK:
                return self.answer(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
            key = self.headers.get("Idempotency-Key")
            with LOCK:
                if key in IDEMPOTENT:
                    return self.answer(200, IDEMPOTENT[key])
            sid = "cs_test_%04d" % n
            meta = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}
            obj = {"id": sid, "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/" + sid,
                   "mode": form.get("mode"), "status": "open", "payment_status": "unpaid",
                   "amount_total": int(form.get("line_items[0][price_data][unit_amount]", "0")),
                   "currency": form.get("line_items[0][price_data][currency]"),
                   "client_reference_id": form.get("client_reference_id"), "metadata": meta,
                   "success_url": form.get("success_url"), "cancel_url": form.get("cancel_url")}
            with LOCK:
                IDEMPOTENT[key] = obj
            return self.answer(200, obj)
        if self.path in ("/v1/orders", "/v1/payment_links"):
            want = "Basic " + base64.b64encode(("%s:%s" % (RZP_ID, RZP_SECRET)).encode()).decode()
            if self.headers.get("Authorization") != want or mode == "401":
                return self.answer(401, {"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}})
            b = json.loads(raw)
            if self.path == "/v1/orders":
                return self.answer(200, {"id": "order_%04d" % n, "entity": "order", "amount": b["amount"],
                                         "amount_paid": 0, "currency": b["currency"], "receipt": b.get("receipt"),
                                         "status": "created", "notes": b.get("notes", {})})
            return self.answer(200, {"id": "plink_%04d" % n, "entity": "payment_link", "amount": b["amount"],
                                     "currency": b["currency"], "reference_id": b.get("reference_id"),
                                     "short_url": "https://rzp.io/i/%04d" % n, "status": "created",
                                     "notes": b.get("notes", {})})
        self.answer(404, {"error": {"message": "no such route"}})


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTS + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
import os
os.rename(PORTS + ".tmp", PORTS)
srv.serve_forever()
