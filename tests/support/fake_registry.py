#!/usr/bin/python3
"""A scripted HTTP server for registry-client tests: fixed answers per path, optional Basic auth, and a
record of every request's headers, for what a real registry will not do on demand (HTTP 429, redirects
to another host).

usage: fake_registry.py PORT SCRIPT.json

SCRIPT.json: {"basic": "USER:PASSWORD" (optional),
              "routes": {"/path": {"status": 200, "headers": {"Name": "value"},
                                   "body": "text" | "body_file": "/file", "public": false}}}
Header values may say "{port}" for the server's own port. A route is matched on the path without its query. With "basic" set, a route that is not "public"
answers 401 with a Basic challenge unless the request carries those credentials. Unknown paths get a
registry-style 404. GET /_requests returns the requests answered so far (not itself):
[{"method", "path", "headers": {lowercased name: value}}].
"""
import base64
import http.server
import json
import sys
import threading
import urllib.parse

port, script_path = sys.argv[1:3]
with open(script_path) as f:
    script = json.load(f)
expected_auth = ""
if script.get("basic"):
    expected_auth = "Basic " + base64.b64encode(script["basic"].encode()).decode()
requests = []
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, headers, body):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_request(self):
        path = urllib.parse.urlparse(self.path).path
        if path == "/_requests":
            with lock:
                body = json.dumps(requests).encode()
            return self.reply(200, {"Content-Type": "application/json"}, body)
        with lock:
            requests.append({"method": self.command, "path": self.path,
                             "headers": {name.lower(): value for name, value in self.headers.items()}})
        route = script.get("routes", {}).get(path)
        if route is None:
            body = json.dumps({"errors": [{"code": "NAME_UNKNOWN", "message": "no route " + path}]}).encode()
            return self.reply(404, {"Content-Type": "application/json"}, body)
        if expected_auth and not route.get("public") and self.headers.get("Authorization") != expected_auth:
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
            return self.reply(401, {"Content-Type": "application/json",
                                    "WWW-Authenticate": 'Basic realm="fake-registry"'}, body.encode())
        if "body_file" in route:
            with open(route["body_file"], "rb") as f:
                body = f.read()
        else:
            body = route.get("body", "").encode()
        headers = {name: value.replace("{port}", port) for name, value in route.get("headers", {}).items()}
        self.reply(route.get("status", 200), headers, body)

    do_GET = handle_request
    do_HEAD = handle_request


http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
