"""A small HTTP/1.0 server on 127.0.0.1 for the board's URL tests, in a thread of the test
process, with the behaviours a board meets in the field:

    with HttpServer() as http:
        http.file("/CATM1-41065.dup", data)             # 200 with Content-Length
        http.file("/cut.dup", data, cut_once=300_000)   # the first answer stops after
                                                        # 300,000 bytes, later ones are whole
        http.redirect("/old.dup", "/CATM1-41065.dup")   # 302 with Location
        http.file("/nolen.dup", data, length=False)     # no Content-Length
        http.file("/stall.dup", data, stall_once=300_000)  # the first answer stops sending
                                                        # after 300,000 bytes, and waits
        http.silent("/silent.dup")                      # reads the request, never answers
        url = http.url("/CATM1-41065.dup")
        http.hits["/CATM1-41065.dup"]                   # GET requests answered

Any other path is a 404. `closed_port()` is a port nobody listens on (a refused
connection); `Blackhole()` a port whose connections are never accepted (a connect that
hangs).
"""

import socket
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        owner = self.server.owner
        line = self.rfile.readline().decode("latin-1")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        parts = line.split()
        path = parts[1] if len(parts) > 1 else "/"
        with owner.lock:
            owner.hits[path] = owner.hits.get(path, 0) + 1
            route = owner.routes.get(path)
            if route and route[0] == "file" and route[3] is not None:
                # Stop mid-body this once: later answers are whole.
                owner.routes[path] = route[:3] + (None, None)
        w = self.wfile
        if route and route[0] == "silent":
            owner.stopping.wait(120)
        elif route is None:
            body = b"<html>not here</html>"
            w.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif route[0] == "redirect":
            w.write(b"HTTP/1.0 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                    % route[1].encode())
        else:
            _, data, length, cut, stall = route
            head = b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
            if length:
                head += b"Content-Length: %d\r\n" % len(data)
            w.write(head + b"\r\n")
            try:
                w.write(data if cut is None else data[:cut])
                w.flush()
            except OSError:
                pass  # the board hung up (a digest check that stopped reading)
            if stall:
                owner.stopping.wait(120)  # silent, the connection open
        if route and route[0] == "file" and route[3] is not None:
            # A connection that ends mid-body: close at once (no lingering data).
            self.connection.shutdown(socket.SHUT_RDWR)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class HttpServer:
    def __init__(self):
        self.routes = {}
        self.hits = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def file(self, path, data, cut_once=None, length=True, stall_once=None):
        with self.lock:
            cut = cut_once if stall_once is None else stall_once
            self.routes[path] = ("file", data, length, cut, stall_once is not None)

    def silent(self, path):
        with self.lock:
            self.routes[path] = ("silent",)

    def redirect(self, path, location):
        with self.lock:
            self.routes[path] = ("redirect", location)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def closed_port():
    """A local port nobody listens on: a connection to it is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Blackhole:
    """A listening port whose backlog is full and that never accepts: a connection to it
    neither completes nor fails (the kernel drops the SYN), as with a host that is gone."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(0)
        self.port = self.server.getsockname()[1]
        self.fill = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fill.append(c)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for c in self.fill:
            c.close()
        self.server.close()
