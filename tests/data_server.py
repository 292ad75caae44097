#!/usr/bin/env python3
"""data_server.py - a loopback stand-in for the Hugging Face dataset viewer's rows API and for release-file hosts,
with fault injection, used by tests/test_data_fetch.sh.

  GET /rows?dataset=D&config=C&split=S&offset=O&length=L
      answers like the real API: {"features": [...], "rows": [{"row_idx", "row", "truncated_cells"}],
      "num_rows_total", "num_rows_per_page": 100, "partial": false}, compact JSON; length > 100 is 422, an
      unknown dataset/config/split is 404 {"error": ...}. Rows are the lines of a local JSONL file.
  GET /files/<host>/<path>   a local file, with Range support (206), as `data fetch --mirror URL/files` asks.
  GET /_control?reset=KEY    clears the faults of KEY ("D|C|S" or "file:<path>").

Usage: data_server.py CONFIG.json PORT_FILE LOG_FILE
CONFIG: {"rows": {"D|C|S": {"file": PATH, "faults": {...}}}, "files": {"/<host>/<path>": {"file": PATH,
"faults": {...}}}}. Faults of a rows key, counted over that key's requests:
  fail500: K        the first K requests answer 500
  retry_after: K    the first K requests answer 429 with Retry-After: 1
  truncate: K       the first K requests send half the body (with the full Content-Length) and close
  hang: SECONDS     the first request waits SECONDS before answering
  die_after: K      after K answered requests, close every connection without an answer (until reset)
  slow: SECONDS     wait before every answer (until reset)
  wrong_total: D    num_rows_total is the real count + D
  truncated_cells_at: I   row I comes with truncated_cells ["question"]
  truncate_over: K  a page longer than K rows has every row's "question" cell marked truncated (a size limit)
  partial: true     "partial": true
  status: CODE      every request answers CODE with {"error": "..."} (501: the viewer's "not supported")
Faults of a file key: drop_after_bytes: N (the first request sends N bytes of the body, then closes).
Every request is logged to LOG_FILE as one line: "rows KEY OFFSET LENGTH STATUS" or "file PATH RANGE STATUS".
Nothing here is glam-eval code: it only imitates the server side.
"""
import json
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def load_rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class State:
    def __init__(self, config):
        self.rows = {}
        for key, spec in config.get("rows", {}).items():
            self.rows[key] = {"rows": load_rows(spec["file"]), "faults": dict(spec.get("faults", {})), "n": 0}
        self.files = {}
        for path, spec in config.get("files", {}).items():
            with open(spec["file"], "rb") as f:
                self.files[path] = {"data": f.read(), "faults": dict(spec.get("faults", {})), "n": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None
    log_path = None

    def log_message(self, fmt, *args):  # quiet
        pass

    def record(self, line):
        with LOCK:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def send(self, status, body, ctype="application/json", headers=None, cut=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if cut is None:
            self.wfile.write(body)
            return
        self.wfile.write(body[:cut])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/_control":
            key = q.get("reset", "")
            with LOCK:
                target = self.state.rows.get(key) or self.state.files.get(key[5:] if key.startswith("file:") else "")
                if target:
                    target["faults"] = {}
            self.send(200 if target else 404, b"{}")
            return
        if url.path == "/rows":
            self.rows(q)
            return
        if url.path.startswith("/files/"):
            self.file(urllib.parse.unquote(url.path[len("/files"):]))
            return
        self.send(404, b'{"error": "Not found."}')

    def rows(self, q):
        key = "%s|%s|%s" % (q.get("dataset"), q.get("config"), q.get("split"))
        offset, length = int(q.get("offset", "0")), int(q.get("length", "100"))
        entry = self.state.rows.get(key)
        if entry is None:
            self.record("rows %s %d %d 404" % (key, offset, length))
            self.send(404, json.dumps({"error": "The dataset does not exist, or is not accessible."}).encode())
            return
        with LOCK:
            entry["n"] += 1
            n = entry["n"]
            faults = dict(entry["faults"])
        if faults.get("status"):
            self.record("rows %s %d %d %d" % (key, offset, length, faults["status"]))
            self.send(faults["status"], json.dumps({"error": "The dataset viewer doesn't support this dataset "
                                                    "because it runs arbitrary Python code."}).encode())
            return
        if "die_after" in faults and n > faults["die_after"]:
            self.record("rows %s %d %d drop" % (key, offset, length))
            self.drop()
            return
        if faults.get("hang") and n == 1:
            time.sleep(faults["hang"])
        if faults.get("slow"):
            time.sleep(faults["slow"])
        if n <= faults.get("fail500", 0):
            self.record("rows %s %d %d 500" % (key, offset, length))
            self.send(500, b'{"error": "Internal server error"}')
            return
        if n <= faults.get("retry_after", 0):
            self.record("rows %s %d %d 429" % (key, offset, length))
            self.send(429, b'{"error": "Too many requests"}', headers={"Retry-After": "1"})
            return
        if length > 100:
            self.record("rows %s %d %d 422" % (key, offset, length))
            self.send(422, b'{"error": "Parameter \'length\' must not be greater than 100"}')
            return
        rows = entry["rows"]
        out = []
        for i in range(offset, min(offset + length, len(rows))):
            over = "truncate_over" in faults and length > faults["truncate_over"]
            cells = ["question"] if faults.get("truncated_cells_at") == i or over else []
            out.append({"row_idx": i, "row": rows[i], "truncated_cells": cells})
        features = [{"feature_idx": k, "name": name, "type": {"_type": "Value"}}
                    for k, name in enumerate(rows[0].keys() if rows else [])]
        doc = {"features": features, "rows": out, "num_rows_total": len(rows) + faults.get("wrong_total", 0),
               "num_rows_per_page": 100, "partial": bool(faults.get("partial", False))}
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if n <= faults.get("truncate", 0):
            self.record("rows %s %d %d cut" % (key, offset, length))
            self.send(200, body, cut=len(body) // 2)
            return
        self.record("rows %s %d %d 200" % (key, offset, length))
        self.send(200, body)

    def file(self, path):
        entry = self.state.files.get(path)
        rng = self.headers.get("Range", "")
        if entry is None:
            self.record("file %s %s 404" % (path, rng or "-"))
            self.send(404, b"Not Found", ctype="text/plain")
            return
        with LOCK:
            entry["n"] += 1
            n = entry["n"]
            faults = dict(entry["faults"])
        data, start = entry["data"], 0
        if rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.record("file %s %s 416" % (path, rng))
                self.send(416, b"", ctype="text/plain")
                return
        body = data[start:]
        status = 206 if start else 200
        headers = {"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))} if start else {}
        if n == 1 and faults.get("drop_after_bytes"):
            self.record("file %s %s cut" % (path, rng or "-"))
            self.send(status, body, ctype="application/octet-stream", headers=headers, cut=faults["drop_after_bytes"])
            return
        self.record("file %s %s %d" % (path, rng or "-", status))
        self.send(status, body, ctype="application/octet-stream", headers=headers)


def main():
    config_path, port_file, log_path = sys.argv[1:4]
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    Handler.state = State(config)
    Handler.log_path = log_path
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
