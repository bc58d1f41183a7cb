import Foundation

/// Source of the stand-in API server (python3) used for transport behaviours the embedded cluster cannot script.
let fakeAPIServerSource = #"""
# A tiny stand-in for the Kubernetes API server, used by KubeClientTests until/besides the embedded cluster.
# Serves configmaps with resourceVersions, paging, watch, logs, and scripted faults. Prints its port.
import json, os, sys, threading, time, urllib.parse
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

TOKEN = sys.argv[1] if len(sys.argv) > 1 else "test-token"
lock = threading.Condition()
rv = [100]
objects = {}   # (ns, name) -> obj
events = []    # (rv, type, obj)
stats = {"open_watches": 0, "requests": 0, "faults": {}, "auth": []}

def status(code, reason, message, causes=None):
    s = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message}
    if causes: s["details"] = {"causes": causes}
    return s

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass

    def send_json(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers: self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return json.loads(self._body) if self._body else None

    def handle_any(self, method):
        # read the whole body first, so an early error answer leaves the kept-alive connection clean
        n = int(self.headers.get("Content-Length") or 0)
        self._body = self.rfile.read(n) if n else b""
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        parts = [p for p in u.path.split("/") if p]
        with lock:
            stats.setdefault("client_ports", set()).add(self.client_address[1])
            stats["requests"] += 1
            stats["auth"].append(self.headers.get("Authorization", ""))
        if u.path == "/debug/stats":
            with lock: return self.send_json(200, {"open_watches": stats["open_watches"], "requests": stats["requests"], "connections": len(stats.get("client_ports", ())), "auth": stats["auth"][-5:], "ua": self.headers.get("User-Agent")})
        if u.path.startswith("/debug/fault/"):
            # /debug/fault/<code>/<count>?retryAfter=1 : the next <count> API requests answer <code>
            code, count = int(parts[2]), int(parts[3])
            with lock: stats["faults"] = {"code": code, "count": count, "retryAfter": q.get("retryAfter")}
            return self.send_json(200, {})
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        with lock:
            f = stats["faults"]
            if f.get("count", 0) > 0:
                f["count"] -= 1
                hdrs = [("Retry-After", f["retryAfter"])] if f.get("retryAfter") else []
                return self.send_json(f["code"], status(f["code"], "InternalError" if f["code"] == 500 else "TooManyRequests" if f["code"] == 429 else "ServiceUnavailable", "injected"), hdrs)
        # /api/v1/namespaces/{ns}/configmaps[/{name}] or /api/v1/namespaces/{ns}/pods/{name}/log
        if len(parts) >= 5 and parts[4] == "pods" and len(parts) == 7 and parts[6] == "log":
            return self.logs(q)
        if len(parts) < 5 or parts[4] != "configmaps":
            return self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))
        ns = parts[3]; name = parts[5] if len(parts) > 5 else None
        if method == "GET" and name is None:
            if q.get("watch") == "true": return self.watch(ns, q)
            return self.list(ns, q)
        if method == "GET":
            with lock: o = objects.get((ns, name))
            if o is None: return self.send_json(404, status(404, "NotFound", 'configmaps "%s" not found' % name))
            return self.send_json(200, o)
        if method == "POST":
            o = self.body()
            name = o["metadata"]["name"]
            if "invalid" in (o.get("data") or {}):
                return self.send_json(422, status(422, "Invalid", "ConfigMap is invalid", [{"field": "data.invalid", "reason": "FieldValueInvalid", "message": "not allowed"}]))
            with lock:
                if (ns, name) in objects: return self.send_json(409, status(409, "AlreadyExists", 'configmaps "%s" already exists' % name))
                if q.get("dryRun") == "All":
                    o["metadata"]["namespace"] = ns
                    return self.send_json(201, o)
                rv[0] += 1
                o["metadata"].update({"namespace": ns, "resourceVersion": str(rv[0]), "uid": "uid-" + name})
                objects[(ns, name)] = o; events.append((rv[0], "ADDED", json.loads(json.dumps(o)))); lock.notify_all()
            return self.send_json(201, o)
        if method == "PUT":
            o = self.body()
            with lock:
                cur = objects.get((ns, name))
                if cur is None: return self.send_json(404, status(404, "NotFound", "not found"))
                if o["metadata"].get("resourceVersion") not in (None, cur["metadata"]["resourceVersion"]):
                    return self.send_json(409, status(409, "Conflict", 'Operation cannot be fulfilled on configmaps "%s": the object has been modified; please apply your changes to the latest version and try again' % name))
                rv[0] += 1
                o["metadata"].update({"namespace": ns, "resourceVersion": str(rv[0]), "uid": cur["metadata"]["uid"]})
                objects[(ns, name)] = o; events.append((rv[0], "MODIFIED", json.loads(json.dumps(o)))); lock.notify_all()
            return self.send_json(200, o)
        if method == "PATCH":
            p = self.body()
            with lock:
                cur = objects.get((ns, name))
                if cur is None: return self.send_json(404, status(404, "NotFound", "not found"))
                cur = json.loads(json.dumps(cur))
                cur.setdefault("data", {}).update((p or {}).get("data", {}))
                rv[0] += 1; cur["metadata"]["resourceVersion"] = str(rv[0])
                cur.setdefault("metadata", {})["annotations"] = {"content-type": self.headers.get("Content-Type", ""), "query": u.query}
                objects[(ns, name)] = cur; events.append((rv[0], "MODIFIED", json.loads(json.dumps(cur)))); lock.notify_all()
            return self.send_json(200, cur)
        if method == "DELETE":
            self.body()
            with lock:
                cur = objects.pop((ns, name), None)
                if cur is None: return self.send_json(404, status(404, "NotFound", 'configmaps "%s" not found' % name))
                rv[0] += 1; cur["metadata"]["resourceVersion"] = str(rv[0])
                events.append((rv[0], "DELETED", cur)); lock.notify_all()
            return self.send_json(200, {"kind": "Status", "status": "Success"})
        return self.send_json(405, status(405, "MethodNotAllowed", "no"))

    def list(self, ns, q):
        with lock:
            items = sorted([o for (n, _), o in objects.items() if n == ns], key=lambda o: o["metadata"]["name"])
            cur = str(rv[0])
        start = 0
        tok = q.get("continue")
        if tok:
            if tok.startswith("expired"):
                return self.send_json(410, status(410, "Expired", "The provided continue parameter is too old"))
            start = int(tok)
        limit = int(q.get("limit", 0)) or len(items) or 1
        page = items[start:start + limit]
        meta = {"resourceVersion": cur}
        if start + limit < len(items):
            meta["continue"] = "expired-once" if q.get("labelSelector") == "expire" and start == 0 and not stats.get("expired_done") else str(start + limit)
            if meta["continue"].startswith("expired"): stats["expired_done"] = True
        return self.send_json(200, {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": meta, "items": page})

    def start_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data)); self.wfile.flush()

    def watch(self, ns, q):
        since = int(q.get("resourceVersion") or 0)
        timeout = float(q.get("timeoutSeconds") or 30)
        if since and since < 50:
            return self.send_json(410, status(410, "Expired", "too old resource version: %d" % since))
        self.start_chunked("application/json")
        with lock: stats["open_watches"] += 1
        deadline = time.time() + timeout
        try:
            pos = since
            while time.time() < deadline:
                with lock:
                    pending = [e for e in events if e[0] > pos]
                    if not pending: lock.wait(0.05)
                for (r, t, o) in pending:
                    if o["metadata"]["namespace"] != ns: pos = r; continue
                    line = json.dumps({"type": t, "object": o}).encode() + b"\n"
                    # split events across chunk boundaries on purpose
                    mid = len(line) // 2
                    self.chunk(line[:mid]); self.chunk(line[mid:])
                    pos = r
                if not pending:
                    # keep-alive newline: lets this server notice a client that went away
                    self.chunk(b"\n")
            self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with lock: stats["open_watches"] -= 1

    def logs(self, q):
        follow = q.get("follow") == "true"
        self.start_chunked("text/plain")
        with lock: stats["open_watches"] += 1
        try:
            self.chunk(b"line one\nline ")
            self.chunk(b"two\r\n")
            big = b"x" * 100000
            self.chunk(big[:50000]); self.chunk(big[50000:] + b"\n")
            n = 3
            while follow:
                time.sleep(0.05)
                self.chunk(b"tick %d\n" % n); n += 1
            self.chunk(b"last without newline")
            self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with lock: stats["open_watches"] -= 1

    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def do_PUT(self): self.handle_any("PUT")
    def do_PATCH(self): self.handle_any("PATCH")
    def do_DELETE(self): self.handle_any("DELETE")

def exit_when_parent_goes():
    # The test process holds our stdin open; EOF means it ended (even by a crash), so we end too.
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=exit_when_parent_goes, daemon=True).start()

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
if len(sys.argv) > 4:
    # TLS with client certificates required: argv = token cert key client-ca
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"""#
