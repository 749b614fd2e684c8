#!/usr/bin/python3
"""A Docker Registry token server for tests: issues RS256 JWTs that docker-registry's `token` auth
accepts (x5c chain with the self-signed certificate from its rootcertbundle).

usage: token_server.py PORT KEY.pem CERT.pem ISSUER SERVICE USER PASSWORD

GET /token?service=..&scope=repository:NAME:ACTIONS  with Basic USER:PASSWORD grants the scope's actions;
anonymous requests and wrong passwords get 401. GET /count returns how many tokens were issued, so
tests can check that clients cache them.
"""
import base64
import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.parse

port, key, cert, issuer, service, user, password = sys.argv[1:8]
with open(cert) as f:
    pem = f.read()
der_b64 = "".join(line for line in pem.splitlines() if "-----" not in line)
issued = 0
lock = threading.Lock()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(payload):
    return subprocess.run(["/usr/bin/openssl", "dgst", "-sha256", "-sign", key], input=payload,
                          capture_output=True, check=True).stdout


def make_token(access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [der_b64]}
    claims = {"iss": issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now, "jti": str(time.time_ns()), "access": access}
    signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    return signing_input.decode() + "." + b64url(sign(signing_input))


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        global issued
        url = urllib.parse.urlparse(self.path)
        if url.path == "/count":
            return self.reply(200, {"issued": issued})
        if url.path != "/token":
            return self.reply(404, {"error": "not found"})
        auth = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if auth != expected:
            return self.reply(401, {"error": "invalid credentials"})
        query = urllib.parse.parse_qs(url.query)
        access = []
        for scope in query.get("scope", []):
            parts = scope.split(":")
            if len(parts) == 3:
                access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
        with lock:
            issued += 1
        token = make_token(access)
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300})


http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
