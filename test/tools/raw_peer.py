#!/usr/bin/python3
"""A peer on 127.0.0.1 that answers what no well-behaved server would, for
test/t/170 (bounded: it serves until killed, one thread per connection).

  raw_peer.py PORTFILE

Paths: /garbage (not HTTP at all), /long-header (one 200 kB header line),
/many-headers (30,000 repeats of one header: about 300 kB), /headers-ok,
/qs-big (a text/plain body of 100,000 query-string keys).
"""
import socket
import sys
import threading

CANNED = {
    "/garbage": b"THIS IS NOT HTTP\r\n\r\n",
    "/long-header": b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 200000 + b"\r\nContent-Length: 2\r\n\r\nok",
    "/many-headers": b"HTTP/1.1 200 OK\r\n" + b"X-Rep: v\r\n" * 30000 + b"Content-Length: 2\r\n\r\nok",
    "/headers-ok": b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 2\r\n\r\nok",
}
QS = "&".join("k%d=v" % i for i in range(100000)).encode()
CANNED["/qs-big"] = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                     + str(len(QS)).encode() + b"\r\n\r\n" + QS)


def serve(conn):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        try:
            path = data.split(b" ", 2)[1].decode().split("?")[0]
        except Exception:
            path = ""
        conn.sendall(CANNED.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
