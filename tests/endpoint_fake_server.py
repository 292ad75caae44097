#!/usr/bin/env python3
"""endpoint_fake_server.py — a small OpenAI-compatible /v1/completions server for glam-eval's endpoint tests,
with fault injection. It has no model: log-probabilities are a deterministic function of the tokens, so the tests
can compute every expected score themselves (endpoint_check.py imports the same functions).

Tokens: a text prompt is split into pieces (leading whitespace + a run of non-space characters); a token-id prompt
is its ids. Each token has a value v (the id, or a hash of the piece). The log-prob of token i >= 1 is
    lp(i) = -(1 + ((v[i] * 31 + v[i-1] * 17) % 97) / 10)
and its top_logprobs holds only itself (greedy) unless (v[i] + v[i-1]) % 3 == 0, when an "<alt>" token is 0.25
more likely (not greedy). Generation emits " wK" words (K from the last prompt value), with "\\n" every 5th word,
stopped at the earliest stop string (excluded), max_tokens words at most.

Faults (--fault, comma-separated), applied to POST /v1/completions:
  500, 429, stall, reset, truncated, badjson, wrongn   the FIRST attempt of each distinct request body fails that
                                                       way (429 carries Retry-After: 1; stall sleeps 3 s first)
  always500        every request answers 500
  die_after=N      the process exits after answering N completions requests successfully
  noecho           echo is ignored: logprobs cover only the generated token (as llama.cpp's server)
  noecho400        a request with echo answers 400 "echo is not supported"
  nomax0           max_tokens 0 answers 400 (the client must use 1 and drop the generated position)
  poslogprob, swapecho, textnull   the FIRST attempt of each request body gets a malformed 200 answer: a log-prob
                   of +0.7 for the last prompt token; the first two choices' contents swapped (their "index" kept);
                   "text": null in every choice. The client must reject these and retry.
  alwaysposlogprob every answer has the +0.7 log-prob (the client must fail, naming the field)
  gen400=N         a generation prompt longer than N characters answers 400 "maximum context length" (the client
                   stores an error for that request; the run goes on)
  gennul           generated text holds a NUL (\\u0000)
  holdgen          a generation request (no echo; the start-up probe has echo) is held unanswered, at most 600 s,
                   until /control switches holdgen off, then answered: a run that lasts exactly as long as a test
                   needs
  vllmbos          text prompts: the answer lists a first token "<s>" (a BOS the text does not contain) and builds
                   text_offset by adding up token lengths, as vLLM does, so every offset is 3 too far
  vllmfffd         text prompts: a token with non-ASCII characters is listed with U+FFFD U+FFFD for each (a byte
                   token that does not complete a character, as vLLM lists it) and offsets are added up: offsets
                   after such a token are wrong, those of an ASCII prompt right
  negoffsets       every text_offset is -1 (SGLang: "not supported yet")
  addbos           token-id prompts get an id 1 in front (a server that adds BOS): one more position, and
                   usage.prompt_tokens counts it
  badusage         the FIRST attempt of each request body with several prompts has usage.prompt_tokens one too
                   high (the single-prompt start-up probe is spared: there a wrong count is taken as the server's)
  idecho           token-id prompts are echoed as "<id>" strings even with --vocab (an echo that is not their text)
--vocab FILE       a tokenizer.json with a byte-level vocabulary: token-id prompts are echoed as their text (control
                   tokens dropped), as real servers do; without it they are echoed as "<id>" strings
--require-key K    answers 401 unless "Authorization: Bearer K"
--log FILE         one JSON line per completions request: attempt, status, prompts, time
POST /control {"fault": "...", "require_key": K|null, "log": FILE}   switches all three at run time and forgets
                   earlier attempts, so one server process serves every case of a test
--port-file FILE   written with the port once listening (bind 127.0.0.1, port 0 = any free port)
"""
import argparse
import hashlib
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_ID = "fake-model"


def text_tokens(text):
    """Pieces of a text prompt: each token is leading whitespace plus a run of non-space characters."""
    return re.findall(r"\s*\S+|\s+", text)


def piece_value(piece):
    return sum((i + 1) * ord(c) for i, c in enumerate(piece)) % 1000


def token_logprob(v, prev):
    return -(1 + ((v * 31 + prev * 17) % 97) / 10)


def is_greedy_pos(v, prev):
    return (v + prev) % 3 != 0


def prompt_tokens(prompt):
    """(token strings, values, text_offsets in code points) of one prompt (text or token ids)."""
    if isinstance(prompt, str):
        toks = text_tokens(prompt)
        offs, o = [], 0
        for t in toks:
            offs.append(o)
            o += len(t)
        return toks, [piece_value(t) for t in toks], offs
    toks = ["<%d>" % i for i in prompt]
    offs, o = [], 0
    for t in toks:
        offs.append(o)
        o += len(t)
    return toks, list(prompt), offs


VOCAB = {}  # id -> bytes, from --vocab (byte-level BPE); special tokens are absent (dropped from an echo)


def load_vocab(path):
    """id -> bytes of a byte-level tokenizer.json (GPT-2's byte-to-unicode table reversed)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    k = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + k)
            k += 1
    to_byte = {chr(c): b for b, c in zip(bs, cs)}
    with open(path) as f:
        tok = json.load(f)
    special = {t["id"] for t in tok.get("added_tokens", [])}
    return {i: bytes(to_byte[ch] for ch in piece) for piece, i in tok["model"]["vocab"].items() if i not in special}


def ids_text(ids):
    return b"".join(VOCAB.get(i, b"") for i in ids).decode("utf-8", "replace")


def cumulative(toks):
    offs, o = [], 0
    for t in toks:
        offs.append(o)
        o += len(t)
    return offs


def generate_text(values, max_tokens, stop):
    last = values[-1] if values else 0
    words = []
    for k in range(max_tokens):
        words.append("\n" if k % 5 == 4 else " w%d" % ((last * 7 + k * 13) % 50))
    text, n = "", 0
    for w in words:
        text += w
        n += 1
    cut = len(text)
    for s in stop or []:
        i = text.find(s)
        if s and i >= 0:
            cut = min(cut, i)
    if cut < len(text):  # count the words before the stop
        n = 0
        acc = ""
        for w in words:
            if len(acc) + len(w) > cut:
                break
            acc += w
            n += 1
    return text[:cut], n


def choice_for(prompt, body, faults):
    if "addbos" in faults and isinstance(prompt, list):
        prompt = [1] + prompt
    toks, vals, offs = prompt_tokens(prompt)
    max_tokens = int(body.get("max_tokens", 16))
    echo = bool(body.get("echo", False)) and "noecho" not in faults
    want_lp = body.get("logprobs") is not None
    if want_lp:
        lps = [None] + [token_logprob(vals[i], vals[i - 1]) for i in range(1, len(vals))]
        tops = [None]
        for i in range(1, len(vals)):
            top = {toks[i]: lps[i]}
            if not is_greedy_pos(vals[i], vals[i - 1]):
                top["<alt>"] = lps[i] + 0.25
            tops.append(top)
        plen = offs[-1] + len(toks[-1]) if toks else 0
        gen_t = ["<g>"] * max_tokens
        gen_lp = [-0.5] * max_tokens
        gen_top = [{"<g>": -0.5}] * max_tokens
        gen_off = [plen] * max_tokens
        if echo:
            if isinstance(prompt, str):
                ptext = prompt
            elif VOCAB and "idecho" not in faults:
                ptext = ids_text(prompt)
            else:
                ptext = "".join(toks)
            if isinstance(prompt, str) and "vllmbos" in faults:
                toks, lps, tops = ["<s>"] + toks, [None] + lps, [None] + tops
                lps[1], tops[1] = token_logprob(vals[0], 0), {toks[1]: token_logprob(vals[0], 0)}
                offs = cumulative(toks)
            if isinstance(prompt, str) and "vllmfffd" in faults:
                toks = ["".join("\ufffd\ufffd" if ord(ch) > 127 else ch for ch in t) for t in toks]
                offs = cumulative(toks)
            lp = {"tokens": toks + gen_t, "token_logprobs": lps + gen_lp, "top_logprobs": tops + gen_top,
                  "text_offset": offs + gen_off}
            if "negoffsets" in faults:
                lp["text_offset"] = [-1] * len(lp["text_offset"])
            text = ptext + "<g>" * max_tokens
        else:
            lp = {"tokens": gen_t, "token_logprobs": gen_lp, "top_logprobs": gen_top, "text_offset": gen_off}
            text = "<g>" * max_tokens
        return {"text": text, "logprobs": lp, "finish_reason": "length"}, max_tokens, len(vals)
    text, n = generate_text(vals, max_tokens, body.get("stop"))
    return {"text": text, "logprobs": None, "finish_reason": "stop"}, n, len(vals)


class State:
    def __init__(self, faults, die_after, require_key, log_path):
        self.faults = faults
        self.die_after = die_after
        self.require_key = require_key
        self.log_path = log_path
        self.lock = threading.Lock()
        self.attempts = {}
        self.ok = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.total = 0

    def log(self, rec):
        if self.log_path:
            with self.lock, open(self.log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, code, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def auth_ok(self):
        st = self.server.state
        if st.require_key is None:
            return True
        if self.headers.get("Authorization") == "Bearer " + st.require_key:
            return True
        st.log({"attempt": 0, "t": time.time(), "prompts": [], "status": 401, "fault": "401"})
        self.send_json(401, {"error": {"message": "invalid api key"}})
        return False

    def do_GET(self):
        st = self.server.state
        if self.path == "/v1/stats":
            with st.lock:
                obj = {"total": st.total, "ok": st.ok, "max_in_flight": st.max_in_flight}
            self.send_json(200, obj)
            return
        if self.path != "/v1/models":
            self.send_json(404, {"error": {"message": "no such path"}})
            return
        if self.auth_ok():
            self.send_json(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model"}]})

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        if self.path == "/control":
            c = json.loads(raw)
            faults, die_after = parse_faults(c.get("fault", ""))
            with st.lock:
                st.faults, st.die_after = faults, die_after
                st.require_key = c.get("require_key")
                st.log_path = c.get("log")
                st.attempts = {}
                st.ok = 0
            self.send_json(200, {"ok": True})
            return
        if self.path != "/v1/completions":
            self.send_json(404, {"error": {"message": "no such path"}})
            return
        if not self.auth_ok():
            return
        with st.lock:
            st.in_flight += 1
            st.total += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            self.answer(raw)
        finally:
            with st.lock:
                st.in_flight -= 1

    def answer(self, raw):
        st = self.server.state
        faults = st.faults
        key = hashlib.sha256(raw).hexdigest()
        with st.lock:
            attempt = st.attempts.get(key, 0) + 1
            st.attempts[key] = attempt
        body = json.loads(raw)
        prompt = body.get("prompt")
        prompts = prompt if isinstance(prompt, list) and prompt and isinstance(prompt[0], (str, list)) else [prompt]
        rec = {"attempt": attempt, "t": time.time(), "prompts": prompts, "echo": bool(body.get("echo")),
               "max_tokens": body.get("max_tokens")}
        first = attempt == 1
        if "holdgen" in faults and not body.get("echo"):
            st.log(dict(rec, status=0, fault="holdgen"))
            deadline = time.time() + 600
            while "holdgen" in st.faults and time.time() < deadline:
                time.sleep(0.05)

        def fail(status, obj, extra=None, name=None):
            rec["status"] = status
            rec["fault"] = name
            st.log(rec)
            self.send_json(status, obj, extra)

        if "always500" in faults:
            return fail(500, {"error": {"message": "always failing"}}, name="always500")
        if first and "500" in faults:
            return fail(500, {"error": {"message": "injected 500"}}, name="500")
        if first and "429" in faults:
            return fail(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}, name="429")
        if first and "stall" in faults:
            rec["fault"] = "stall"
            rec["status"] = 0
            st.log(rec)
            time.sleep(3)
            self.close_connection = True
            return
        if first and "reset" in faults:
            rec["fault"] = "reset"
            rec["status"] = 0
            st.log(rec)
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.request.close()
            return
        if body.get("echo") and "noecho400" in faults:
            return fail(400, {"error": {"message": "echo is not supported"}}, name="noecho400")
        if body.get("max_tokens") == 0 and "nomax0" in faults:
            return fail(400, {"error": {"message": "max_tokens must be at least 1"}}, name="nomax0")
        gen400 = next((int(f.split("=", 1)[1]) for f in faults if f.startswith("gen400=")), 0)
        if gen400 and not body.get("echo") and any(isinstance(p, str) and len(p) > gen400 for p in prompts):
            return fail(400, {"object": "error", "message": "This model's maximum context length is 512 tokens",
                              "code": 400}, name="gen400")
        choices, n_gen, n_in = [], 0, 0
        for i, p in enumerate(prompts):
            c, k, n_p = choice_for(p, body, faults)
            c["index"] = i
            choices.append(c)
            n_gen += k
            n_in += n_p
        obj = {"id": "cmpl-fake", "object": "text_completion", "model": body.get("model"), "choices": choices,
               "usage": {"prompt_tokens": n_in, "completion_tokens": n_gen}}
        if first and "badusage" in faults and len(prompts) > 1:
            obj["usage"]["prompt_tokens"] += 1
            return fail(200, obj, name="badusage")
        if (first and "poslogprob" in faults or "alwaysposlogprob" in faults) and choices[0]["logprobs"]:
            choices[0]["logprobs"]["token_logprobs"][len(prompt_tokens(prompts[0])[0]) - 1] = 0.7
            return fail(200, obj, name="poslogprob")
        if first and "swapecho" in faults and len(choices) >= 2:
            a, b = dict(choices[1], index=0), dict(choices[0], index=1)
            obj["choices"] = [a, b] + choices[2:]
            return fail(200, obj, name="swapecho")
        if first and "textnull" in faults:
            for c in choices:
                c["text"] = None
            return fail(200, obj, name="textnull")
        if "gennul" in faults and not body.get("echo"):
            for c in choices:
                c["text"] = "abc\u0000def"
            return fail(200, obj, name="gennul")
        if first and "wrongn" in faults:
            obj["choices"] = choices + [dict(choices[0], index=len(choices))]
            return fail(200, obj, name="wrongn")
        data = json.dumps(obj).encode()
        if first and "badjson" in faults:
            rec["fault"] = "badjson"
            rec["status"] = 200
            st.log(rec)
            half = data[: len(data) // 2]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(half)))
            self.end_headers()
            self.wfile.write(half)
            return
        if first and "truncated" in faults:
            rec["fault"] = "truncated"
            rec["status"] = 200
            st.log(rec)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.request.shutdown(socket.SHUT_RDWR)
            return
        rec["status"] = 200
        st.log(rec)
        self.send_json(200, obj)
        with st.lock:
            st.ok += 1
            done = st.ok
        if st.die_after and done >= st.die_after:
            self.wfile.flush()
            os._exit(0)


def parse_faults(spec):
    faults, die_after = set(), 0
    for f in filter(None, spec.split(",")):
        if f.startswith("die_after="):
            die_after = int(f.split("=", 1)[1])
        else:
            faults.add(f)
    return faults, die_after


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--fault", default="")
    ap.add_argument("--require-key")
    ap.add_argument("--log")
    ap.add_argument("--vocab")
    a = ap.parse_args()
    if a.vocab:
        VOCAB.update(load_vocab(a.vocab))
    faults, die_after = parse_faults(a.fault)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.state = State(faults, die_after, a.require_key, a.log)
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
