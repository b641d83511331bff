#!/usr/bin/python3
"""A local HTTP(S) peer for test/t/140, 150 and 160 (127.0.0.1 only).

  http_peer.py certs DIR          a test CA and a server certificate for
                                  127.0.0.1 it signed (python3-cryptography)
  http_peer.py serve PORTFILE [CERTDIR]
                                  serve until killed; writes "<http> <https>"
                                  ports to PORTFILE (https only with CERTDIR)

Paths: /json /echo /qs /text /empty /status/<n> /slow /huge /binary
/redirect /redirect-ftp /loop /sleep/<ms>; the OAuth provider's /oauth/...;
/hits: how often each other path (with its query) was asked for, as JSON
"""
import datetime
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_certs(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "frappe_integrations test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    with open(os.path.join(d, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(d, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(d, "server.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


# the OAuth provider side (t/150): counts per grant, the last form of each
OAUTH = {"counts": {}, "forms": {}, "expires_in": 3600, "n": 0}
OAUTH_LOCK = threading.Lock()


def oauth_token(handler, body):
    import base64
    from urllib.parse import parse_qs
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    grant = form.get("grant_type", "")
    with OAUTH_LOCK:
        OAUTH["counts"][grant] = OAUTH["counts"].get(grant, 0) + 1
        OAUTH["forms"][grant] = dict(form, authorization=handler.headers.get("Authorization", ""))
        OAUTH["n"] += 1
        n = OAUTH["n"]
    if grant == "refresh_token":
        time.sleep(0.3)         # a wide window for sessions racing to refresh
    ok = ((grant == "authorization_code" and form.get("code", "").startswith("code-")
           and form.get("client_secret") == "app-secret")
          or (grant == "refresh_token" and form.get("refresh_token", "").startswith("rt-")
              and form.get("refresh_token") != "rt-revoked")
          or (grant == "client_credentials" and handler.headers.get("Authorization") ==
              "Basic " + base64.b64encode(b"app-client:app-secret").decode()))
    if not ok:
        return handler.send(400, b'{"error": "invalid_grant", "error_description": "no"}', "application/json")
    tok = {"access_token": "at-%d" % n, "token_type": "bearer", "expires_in": OAUTH["expires_in"],
           "scope": "read write"}
    if grant != "client_credentials":
        tok["refresh_token"] = "rt-%d" % n
    handler.send(200, json.dumps(tok).encode(), "application/json")


# requests seen per path and query (t/160 proves what was sent, and how often)
HITS = {}
HITS_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body=b"", ctype=None, extra=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        p = self.path.split("?")[0]
        if p == "/hits":
            with HITS_LOCK:
                return self.send(200, json.dumps(HITS).encode(), "application/json")
        with HITS_LOCK:
            HITS[self.path] = HITS.get(self.path, 0) + 1
        if p == "/oauth/token" and self.command == "POST":
            return oauth_token(self, body)
        if p == "/oauth/state":
            with OAUTH_LOCK:
                return self.send(200, json.dumps(OAUTH).encode(), "application/json")
        if p == "/oauth/expires_in":
            OAUTH["expires_in"] = int(body.decode() or 3600)
            return self.send(200, b"{}", "application/json")
        if p == "/.well-known/openid-configuration":
            base = "http://127.0.0.1:%d" % self.server.server_address[1]
            return self.send(200, json.dumps({"issuer": base, "authorization_endpoint": base + "/oauth/authorize",
                                              "token_endpoint": base + "/oauth/token",
                                              "userinfo_endpoint": base + "/oauth/userinfo",
                                              "revocation_endpoint": base + "/oauth/revoke",
                                              "introspection_endpoint": base + "/oauth/introspect"}).encode(),
                             "application/json")
        if p == "/json":
            self.send(200, b'{"ok": true, "n": 1.5, "s": "caf\\u00e9"}', "application/json; charset=utf-8")
        elif p == "/echo":
            self.send(200, json.dumps({"method": self.command, "body": body.decode("utf-8", "replace"),
                                       "headers": {k.lower(): v for k, v in self.headers.items()}}).encode(),
                      "application/vnd.api+json", [("X-Multi", "a"), ("X-Multi", "b")])
        elif p == "/qs":
            self.send(200, b"a=1&a=2&b=x+y&c=&d=%C3%A9", "text/plain; charset=utf-8")
        elif p == "/text":
            self.send(200, "héllo".encode(), "text/html")
        elif p == "/empty":
            self.send(200)
        elif p.startswith("/status/"):
            self.send(int(p[8:]), b'{"error": "x"}', "application/json")
        elif p.startswith("/sleep/"):
            time.sleep(int(p[7:]) / 1000)
            self.send(200, b'{"slept": true}', "application/json")
        elif p == "/slow":
            time.sleep(20)
            self.send(200, b"late", "text/plain")
        elif p == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(64 * 1024 * 1024))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(1024):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif p == "/binary":
            self.send(200, b"\x00\xff\xfe", "application/octet-stream")
        elif p == "/redirect":
            self.send(302, b"", None, [("Location", "/json")])
        elif p == "/redirect-ftp":
            self.send(302, b"", None, [("Location", "ftp://127.0.0.1/x")])
        elif p == "/loop":
            self.send(302, b"", None, [("Location", "/loop")])
        else:
            self.send(404, b"not found", "text/plain")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


def serve(portfile, certdir=None):
    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    http.daemon_threads = True
    ports = [http.server_address[1], 0]
    servers = [http]
    if certdir:
        https = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        https.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certdir, "server.pem"), os.path.join(certdir, "server.key"))
        https.socket = ctx.wrap_socket(https.socket, server_side=True)
        ports[1] = https.server_address[1]
        servers.append(https)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d %d\n" % tuple(ports))
    os.rename(portfile + ".tmp", portfile)
    http.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "certs":
        make_certs(sys.argv[2])
    elif sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
