#!/usr/bin/env python3
"""serve_client.py — end-to-end test of `glam-eval serve`, run by tests/test_serve.sh; prints TAP.

Starts the server on a free loopback port (--port 0) on two models — stories260K from ../shared/models (skipped
visibly when absent) and a tiny Mixture-of-Experts checkpoint written by `glam-eval init` — and checks it
against the local runtime on the same model: echo log-probs equal `glam-eval loglik` (1e-5) for text and
token-id prompts, lm-evaluation-harness's own parsing of a local-completions payload gives loglik's logprob and
is_greedy, greedy generations equal `glam-eval generate`, token strings and text_offset agree with the text,
batches equal single requests, concurrent clients get the answers they get alone (and share forward passes), the
tokenizer endpoints round-trip, and every error path answers with its status and OpenAI's error shape: bad JSON,
unknown model, too long prompt, body too large, missing or wrong bearer token, wrong method or path, unsupported
options, NUL characters, full queue, request timeout; a client that disconnects has its work cancelled; SIGTERM
shuts down cleanly, answering every request it accepted (its answer or 503); a port in use or an address not of
this machine is one line of ours naming the port and the reason, nothing from libmicrohttpd. Standard library
only."""
import errno
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("GLAM_EVAL_BIN", "./glam-eval")
SHARED = os.environ.get("GLAM_EVAL_SHARED", "")
# Float32 rounding differs with the shape of the products (OpenBLAS's sgemm rounds a row differently with the
# number of rows; docs/serve.md): `glam-eval loglik` computes a context and its continuation in two calls, the
# server a prompt in one, shared with other prompts. So we compare each token's log-prob to 1e-5 and a
# request's sum to 1e-5 per token (the local runtime alone moves a 17-token sum by 6e-6 between one and two
# OpenBLAS threads).
TOL = 1e-5        # one token's log-prob, server against `glam-eval loglik`
BATCH_TOL = 1e-4  # one token's log-prob computed in batches of different shapes

n_points = 0
n_failed = 0


def ok(cond, name, diag=None):
    global n_points, n_failed
    n_points += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n_points, name))
    if not cond:
        n_failed += 1
        if diag is not None:
            for line in str(diag).splitlines()[:40]:
                print("#   " + line)
    sys.stdout.flush()
    return cond


def skip(name, reason):
    global n_points
    n_points += 1
    print("ok %d - %s # SKIP %s" % (n_points, name, reason))


class Server:
    """A `glam-eval serve` process on a free port of 127.0.0.1."""

    def __init__(self, model, *extra, env=None):
        args = [BIN, "serve", "--model", model, "--port", "0", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        line = self.proc.stdout.readline()
        if "listening on http://127.0.0.1:" not in line:
            err = self.proc.stderr.read()
            raise RuntimeError("server did not start: %r %r" % (line, err))
        self.port = int(line.split("127.0.0.1:")[1].split("/")[0])
        self.key = None

    def request(self, method, path, body=None, headers=None, raw=None):
        """Returns (status, headers dict, parsed JSON or None, raw bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Content-Type": "application/json"}
        if self.key is not None:
            h["Authorization"] = "Bearer " + self.key
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        try:
            js = json.loads(data) if data else None
        except ValueError:
            js = None
        return r.status, {k.lower(): v for k, v in r.getheaders()}, js, data

    def complete(self, body):
        st, _, js, raw = self.request("POST", "/v1/completions", body)
        if st != 200:
            raise RuntimeError("completion failed: %d %r" % (st, raw[:500]))
        return js

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            return None, err
        return self.proc.returncode, err


def run(args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, check=True).stdout


def local_loglik(model, pairs, extra):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for c, x in pairs:
            f.write(json.dumps({"context": c, "continuation": x}) + "\n")
        name = f.name
    try:
        out = run(["loglik", "--model", model, "--requests", name, *extra])
    finally:
        os.unlink(name)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def local_generate(model, prompt, until, max_tokens, extra):
    args = ["generate", "--model", model, "--prompt", prompt, "--max-tokens", str(max_tokens), *extra]
    for u in until:
        args += ["--until", u]
    out = run(args)
    return out[:-1] if out.endswith("\n") else out


def lm_eval_parse_logprobs(out, ctxlens):
    """lm-evaluation-harness's LocalCompletionsAPI.parse_logprobs, restated."""
    res = []
    for choice, ctxlen in zip(sorted(out["choices"], key=lambda c: c["index"]), ctxlens):
        lps = choice["logprobs"]["token_logprobs"][ctxlen:-1]
        tops = choice["logprobs"]["top_logprobs"][ctxlen:-1]
        greedy = all(tok == max(top.values()) for tok, top in zip(lps, tops))
        res.append((sum(lps), greedy))
    return res


def offsets_consistent(choice):
    text = choice["text"]
    lp = choice["logprobs"]
    for tok, off in zip(lp["tokens"], lp["text_offset"]):
        if off <= len(text) and text[off:off + len(tok)] != tok[:max(0, len(text) - off)]:
            return False, (tok, off, text)
    return True, None


PAIRS = [
    ("Once upon a time, there was a little girl named", " Lily"),
    ("The cat sat on the", " mat. It was happy."),
    ("Tom and Sue went to the park. ", "They played with a ball."),
    ("One day, a big dog", " ran to the tree and barked at a bird"),
    ("Hello", " world"),
]


def check_model(label, model, extra):
    """Everything that compares the server with the local runtime on one model."""
    srv = Server(model, *extra, "--max-batch", "8")
    srv.key = None
    name = model
    local = local_loglik(model, PAIRS, extra + ["--per-token"])

    # 1. echo with text prompts: the continuation's log-probs sum to loglik's.
    worst, worst_sum, greedy_same, offs_ok, detail = 0.0, 0.0, True, True, None
    for (c, x), ref in zip(PAIRS, local):
        js = srv.complete({"model": name, "prompt": c + x, "echo": True, "max_tokens": 0, "logprobs": 1,
                           "temperature": 0})
        ch = js["choices"][0]
        n = ref["n_tokens"]
        lps = ch["logprobs"]["token_logprobs"][-n:]
        worst = max([worst] + [abs(a - b) for a, b in zip(lps, ref["token_logprobs"])])
        worst_sum = max(worst_sum, abs(sum(lps) - ref["logprob"]) / n)
        greedy = all(t == max(top.values()) for t, top in zip(lps, ch["logprobs"]["top_logprobs"][-n:]))
        greedy_same &= greedy == ref["is_greedy"]
        good, d = offsets_consistent(ch)
        if not good or "".join(ch["logprobs"]["tokens"]) != ch["text"] or ch["text"] != c + x:
            offs_ok, detail = False, (d, ch["text"], ch["logprobs"]["tokens"])
    ok(worst <= TOL and worst_sum <= TOL, "%s: echo log-probs of text prompts equal glam-eval loglik's per token "
       "(max diff %.2g; sums %.2g per token)" % (label, worst, worst_sum))
    ok(greedy_same, "%s: top_logprobs argmax agrees with loglik's is_greedy on every request" % label)
    ok(offs_ok, "%s: echo text is the prompt; tokens concatenate to it and text_offset points at each" % label,
       detail)

    # 1b. special tokens' text in a text prompt ("</s>", "<s>", "<unk>"): the server encodes it as the local
    #     runtime does (the control token), and the echo is still the prompt as sent, so a client that finds the
    #     continuation by text_offset (glam-eval's endpoint backend) scores the same tokens as loglik.
    _, _, info, _ = srv.request("GET", "/tokenizer_info")
    eos, bos, unk = info["eos_token"], info["bos_token"], info["unk_token"] or "<unk>"
    special = [("The dog%s The cat" % eos, " ran to the big park and played all day"),
               ("Use %s and %s tags" % (unk, bos), " here"), ("%sOnce upon" % eos, " a time")]
    local_sp = local_loglik(model, special, extra + ["--per-token"])
    worst, spelled, detail = 0.0, True, []
    for (c, x), ref in zip(special, local_sp):
        js = srv.complete({"model": name, "prompt": c + x, "echo": True, "max_tokens": 0, "logprobs": 0})
        ch = js["choices"][0]
        n = ref["n_tokens"]
        lps = ch["logprobs"]["token_logprobs"][-n:]
        worst = max([worst] + [abs(a - b) for a, b in zip(lps, ref["token_logprobs"])] +
                    [abs(sum(lps) - ref["logprob"]) / n])
        _, _, tk, _ = srv.request("POST", "/tokenize", {"prompt": c + x})
        good, d = offsets_consistent(ch)
        # the continuation starts at the first token whose offset reaches len(context), as the endpoint finds it
        n_found = sum(1 for o in ch["logprobs"]["text_offset"] if o >= len(c))
        if (not good or ch["text"] != c + x or "".join(ch["logprobs"]["tokens"]) != c + x or n_found != n or
                tk["count"] != js["usage"]["prompt_tokens"]):
            spelled = False
            detail.append((c + x, ch["text"], ch["logprobs"]["tokens"], n_found, n, tk["count"]))
    ok(spelled and worst <= TOL, "%s: a text prompt with special tokens' text (%s %s %s) is encoded as loglik "
       "encodes it (max diff %.2g per token) and echoed exactly as sent" % (label, eos, bos, unk, worst), detail)

    # 2. lm-evaluation-harness's local-completions loglikelihood payload: token-id prompts, batched,
    #    max_tokens 1, parsed with its own [ctxlen:-1] rule.
    prompts, ctxlens = [], []
    for (c, x), ref in zip(PAIRS, local):
        st, _, tk, _ = srv.request("POST", "/tokenize", {"prompt": c + x, "add_special_tokens": True})
        prompts.append(tk["tokens"])
        ctxlens.append(len(tk["tokens"]) - ref["n_tokens"])
    js = srv.complete({"model": name, "prompt": prompts, "temperature": 0, "max_tokens": 1, "logprobs": 1,
                       "seed": 1234, "echo": True})
    shape = (len(js["choices"]) == len(prompts) and
             all(len(ch["logprobs"]["token_logprobs"]) == len(p) + 1 for ch, p in zip(js["choices"], prompts)) and
             [ch["index"] for ch in js["choices"]] == list(range(len(prompts))) and
             js["usage"]["prompt_tokens"] == sum(map(len, prompts)) and
             js["choices"][0]["logprobs"]["token_logprobs"][0] is None and
             js["choices"][0]["logprobs"]["top_logprobs"][0] is None)
    ok(shape, "%s: a batch of token-id prompts with max_tokens 1 has one choice per prompt, indexed, with "
       "prompt + 1 log-probs (the first null)" % label, json.dumps(js)[:1500])
    parsed = lm_eval_parse_logprobs(js, ctxlens)
    diffs = [abs(p[0] - r["logprob"]) / r["n_tokens"] for p, r in zip(parsed, local)]
    ok(max(diffs) <= TOL and all(p[1] == r["is_greedy"] for p, r in zip(parsed, local)),
       "%s: lm-eval's parse_logprobs on the response gives loglik's logprob (max diff %.2g per token) and "
       "is_greedy" % (label, max(diffs)), (parsed, local))

    # 3. greedy generation equals glam-eval generate (lm-eval's generate_until payload).
    gens = [("Once upon a time", ["."], 40), ("The little dog", ["\n", " and"], 30), ("Lily wanted", [], 25)]
    same, diag = True, []
    batch_prompts = []
    for p, until, mt in gens:
        want = local_generate(model, p, until, mt, extra)
        js = srv.complete({"prompt": [p], "model": name, "max_tokens": mt, "temperature": 0, "stop": until,
                           "seed": 1234})
        got = js["choices"][0]["text"]
        if got != want:
            same = False
            diag.append((p, got, want))
        batch_prompts.append(got)
    ok(same, "%s: greedy generations equal glam-eval generate's" % label, diag)

    # 4. generation with logprobs: the token strings spell the text, EOS/stop bookkeeping is coherent.
    js = srv.complete({"model": name, "prompt": "Once upon a time", "max_tokens": 12, "logprobs": 3})
    ch = js["choices"][0]
    good, d = offsets_consistent(ch)
    lp = ch["logprobs"]
    coherent = (good and len(lp["tokens"]) == js["usage"]["completion_tokens"] and
                "".join(lp["tokens"]).startswith(ch["text"]) and
                all(t == max(top.values()) for t, top in zip(lp["token_logprobs"], lp["top_logprobs"])) and
                all(len(top) <= 4 for top in lp["top_logprobs"]))
    ok(coherent, "%s: generated tokens carry greedy log-probs and offsets into the text" % label, json.dumps(ch))

    # 5. a batch of text prompts answers as the prompts do alone.
    js = srv.complete({"model": name, "prompt": [g[0] for g in gens], "max_tokens": 40, "stop": ["."]})
    alone = [srv.complete({"model": name, "prompt": g[0], "max_tokens": 40, "stop": ["."]})["choices"][0]["text"]
             for g in gens]
    ok([c["text"] for c in sorted(js["choices"], key=lambda c: c["index"])] == alone,
       "%s: a batch of text prompts gives each prompt's single answer" % label)

    # 6. concurrent clients: each gets its single answer; prompts shared forward passes.
    singles = {}
    for (c, x) in PAIRS:
        singles[c + x] = srv.complete({"model": name, "prompt": c + x, "echo": True, "max_tokens": 8,
                                       "logprobs": 2})["choices"][0]
    results, errors = [], []

    def client(k):
        try:
            for r in range(4):
                c, x = PAIRS[(k + r) % len(PAIRS)]
                js = srv.complete({"model": name, "prompt": c + x, "echo": True, "max_tokens": 8, "logprobs": 2})
                results.append((c + x, js["choices"][0]))
        except Exception as e:  # noqa: BLE001 - reported as a test failure below
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    worst, texts_same = 0.0, True
    for prompt, ch in results:
        ref = singles[prompt]
        texts_same &= ch["text"] == ref["text"] and ch["logprobs"]["tokens"] == ref["logprobs"]["tokens"]
        for a, b in zip(ch["logprobs"]["token_logprobs"][1:], ref["logprobs"]["token_logprobs"][1:]):
            worst = max(worst, abs(a - b))
    # A prompt's logits depend on the batch it shares only by float32 rounding: OpenBLAS's sgemm rounds a row
    # differently with the number of rows in the product (docs/serve.md), a few 1e-6 per logit.
    ok(not errors and len(results) == 48 and texts_same and worst <= BATCH_TOL,
       "%s: 12 concurrent clients x 4 requests get their single answers (max log-prob diff %.2g)"
       % (label, worst), errors[:3])

    # 7. tokenizer endpoints.
    st, _, tk, _ = srv.request("POST", "/tokenize", {"prompt": "Once upon a time", "add_special_tokens": False})
    st2, _, dt, _ = srv.request("POST", "/detokenize", {"tokens": tk["tokens"]})
    ok(st == 200 and st2 == 200 and dt["prompt"] == "Once upon a time" and tk["count"] == len(tk["tokens"]),
       "%s: /tokenize and /detokenize round-trip" % label, (tk, dt))
    st, _, info, _ = srv.request("GET", "/tokenizer_info")
    eos_ok = st == 200 and isinstance(info.get("eos_token"), str)
    if eos_ok:
        _, _, te, _ = srv.request("POST", "/tokenize", {"prompt": info["eos_token"], "add_special_tokens": False})
        eos_ok = len(te["tokens"]) == 1
    ok(eos_ok, "%s: /tokenizer_info names the EOS token, which /tokenize maps to one id (lm-eval's remote "
       "tokenizer relies on it)" % label, info)
    st, _, models, _ = srv.request("GET", "/v1/models")
    ok(st == 200 and models["data"][0]["id"] == name and models["object"] == "list",
       "%s: /v1/models lists the served model" % label, models)

    # The window's edge: lm-eval's max_tokens 1 request on a prompt of exactly max_model_len tokens is served
    # (the generated token is never fed back); one token more is refused.
    L = models["data"][0]["max_model_len"]
    ids = (tk["tokens"] * L)[:L]
    st, _, js, _ = srv.request("POST", "/v1/completions", {"model": name, "prompt": [ids], "echo": True,
                                                           "max_tokens": 1, "logprobs": 1})
    st2, _, js2, _ = srv.request("POST", "/v1/completions", {"model": name, "prompt": [ids + ids[:1]],
                                                             "echo": True, "max_tokens": 1, "logprobs": 1})
    ok(st == 200 and len(js["choices"][0]["logprobs"]["token_logprobs"]) == L + 1 and st2 == 400 and
       js2["error"]["code"] == "context_length_exceeded",
       "%s: a %d-token prompt with max_tokens 1 is served, %d tokens are 400" % (label, L, L + 1),
       (st, st2, js2))
    st3, _, js3, _ = srv.request("POST", "/v1/completions", {"model": name, "prompt": [ids], "max_tokens": 2})
    ok(st3 == 400 and js3["error"]["param"] == "max_tokens" and
       ("maximum context length is %d tokens (a window of %d;" % (L + 1, L)) in js3["error"]["message"],
       "%s: max_tokens 2 on a %d-token prompt is 400 and the message names the window and why it allows one more"
       % (label, L), (st3, js3))

    code, err = srv.stop()
    largest = int(err.rsplit("largest ", 1)[1].split()[0]) if "largest " in err else 0
    ok(code == 0 and "shutting down" in err, "%s: SIGTERM shuts the server down with status 0" % label, err)
    ok(largest > 1, "%s: concurrent prompts were computed in shared forward passes (largest batch %d)"
       % (label, largest), err)


def check_errors(model, extra):
    """Every error path, on a server with small limits and an API key."""
    env = dict(os.environ, GE_TEST_KEY="s3cret-key")
    srv = Server(model, *extra, "--api-key-env", "GE_TEST_KEY", "--max-body-bytes", "4096",
                 "--max-prompt-tokens", "64", "--model-name", "tiny", env=env)
    t_start = time.time()  # after the server's start, which a start-time stamp would be at most
    srv.key = "s3cret-key"

    def err_is(st, js, status, code=None):
        e = (js or {}).get("error") or {}
        return (st == status and isinstance(e.get("message"), str) and "type" in e and "param" in e and
                "code" in e and (code is None or e["code"] == code))

    st, _, js, _ = srv.request("POST", "/v1/completions", raw=b'{"prompt": "x",')
    ok(err_is(st, js, 400, "invalid_json"), "bad JSON is 400 with OpenAI's error object", js)
    st, _, js, _ = srv.request("POST", "/v1/completions", {"model": "gpt-4", "prompt": "x"})
    ok(err_is(st, js, 404, "model_not_found"), "an unknown model is 404 model_not_found", js)
    st, _, js, _ = srv.request("POST", "/v1/completions", {"model": "tiny", "prompt": [5] * 65, "max_tokens": 0})
    ok(err_is(st, js, 400, "context_length_exceeded"), "a prompt over --max-prompt-tokens is 400", js)
    st, _, js, _ = srv.request("POST", "/v1/completions", {"model": "tiny", "prompt": "Hi", "max_tokens": 100000})
    ok(err_is(st, js, 400), "max_tokens past the context window is 400", js)
    st, _, js, _ = srv.request("POST", "/v1/completions", {"model": "tiny", "prompt": "x" * 5000})
    ok(err_is(st, js, 413, "body_too_large"), "a body over --max-body-bytes is 413", js)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.request("POST", "/v1/completions", body=iter([b'{"prompt": "', b"x" * 3000, b"x" * 3000, b'"}']),
                 encode_chunked=True, headers={"Authorization": "Bearer s3cret-key",
                                               "Transfer-Encoding": "chunked"})
    r = conn.getresponse()
    js = json.loads(r.read())
    conn.close()
    ok(err_is(r.status, js, 413, "body_too_large"), "a chunked body over --max-body-bytes is 413", js)
    st, _, js, _ = srv.request("POST", "/v1/completions", {"prompt": "x"}, headers={"Authorization": ""})
    ok(err_is(st, js, 401, "invalid_api_key"), "a missing bearer token is 401", js)
    st, _, js, _ = srv.request("POST", "/v1/completions", {"prompt": "x"},
                               headers={"Authorization": "Bearer s3cret-kez"})
    ok(err_is(st, js, 401, "invalid_api_key"), "a wrong bearer token is 401", js)
    st, _, js, _ = srv.request("POST", "/tokenize", {"prompt": "x"}, headers={"Authorization": "Bearer nope"})
    ok(err_is(st, js, 401), "the tokenizer endpoints need the key too", js)
    st, _, js, raw = srv.request("GET", "/health", headers={"Authorization": ""})
    ok(st == 200 and raw == b"", "/health answers 200 without a key", raw)
    st, hd, js, _ = srv.request("GET", "/v1/completions")
    ok(err_is(st, js, 405, "method_not_allowed") and hd.get("allow") == "POST",
       "GET /v1/completions is 405 with Allow: POST", (st, hd, js))
    st, _, js, _ = srv.request("POST", "/v1/chat/completions", {"prompt": "x"})
    ok(err_is(st, js, 404, "unknown_url"), "an unknown path is 404", js)
    for body, param in [({"prompt": "x", "temperature": 0.7}, "temperature"), ({"prompt": "x", "n": 2}, "n"),
                        ({"prompt": "x", "stream": True}, "stream"), ({"prompt": []}, "prompt"),
                        ({"prompt": [[1, 2], [100000]]}, "prompt"), ({"max_tokens": 3}, "prompt"),
                        ({"prompt": "x", "logprobs": 50}, "logprobs"), ({"prompt": "x", "stop": [1]}, "stop"),
                        ({"prompt": "x", "top_p": 0}, "top_p"), ({"prompt": "x", "top_k": 2.5}, "top_k"),
                        ({"prompt": "x", "min_tokens": 3}, "min_tokens"), ({"prompt": "x", "ignore_eos": True},
                                                                             "ignore_eos"),
                        ({"prompt": "x", "repetition_penalty": 1.2}, "repetition_penalty"),
                        ({"prompt": "x", "min_p": 1.5}, "min_p"), ({"prompt": "x", "top_p": "1"}, "top_p")]:
        st, _, js, _ = srv.request("POST", "/v1/completions", body)
        ok(err_is(st, js, 400) and js["error"]["param"] == param, "%s is 400 naming param '%s'"
           % (json.dumps(body)[:60], param), js)
    # the neutral values (vLLM's defaults, which a client such as lm-eval may pass through) are served
    for extra_opts in [{"top_p": 1, "top_k": -1, "min_p": 0, "min_tokens": 0, "ignore_eos": False,
                        "repetition_penalty": 1}, {"top_p": 1.0, "top_k": 0, "ignore_eos": None}]:
        st, _, js, _ = srv.request("POST", "/v1/completions", dict({"prompt": "Once", "max_tokens": 2}, **extra_opts))
        ok(st == 200, "neutral sampling options %s are accepted" % json.dumps(extra_opts)[:60], js)
    # truncation options keep the most probable token, so under greedy decoding they change nothing: accepted,
    # and the answer is the one without them
    _, _, plain, _ = srv.request("POST", "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 8})
    st, _, js, _ = srv.request("POST", "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 8,
                                                           "top_p": 0.9, "top_k": 5, "min_p": 0.1})
    ok(st == 200 and js["choices"][0]["text"] == plain["choices"][0]["text"],
       "top_p 0.9, top_k 5, min_p 0.1 are accepted and change nothing under greedy decoding", js)
    # Two tokens with one string: with byte fallback (llama2's vocabulary: <0x2C> is id 3 + 0x2C), the byte token
    # for "," scored after "Once upon a time" is far less probable than the "," token; the top_logprobs entry for
    # "," keeps the more probable value, so max(top) != the scored log-prob (not greedy, as it is not the argmax).
    st, _, tk, _ = srv.request("POST", "/tokenize", {"prompt": "Once upon a time", "return_token_strs": True})
    if st == 200 and tk["token_strs"][:2] == ["<s>", "\u2581Once"]:
        js = srv.complete({"prompt": tk["tokens"] + [3 + 0x2C], "max_tokens": 0, "echo": True, "logprobs": 5})
        lp = js["choices"][0]["logprobs"]
        mine, top = lp["token_logprobs"][-1], lp["top_logprobs"][-1]
        ok(lp["tokens"][-1] == "," and top[","] == max(top.values()) and top[","] > mine,
           "two tokens spelled ',': top_logprobs keeps the more probable (%s), not the scored byte token's (%s)"
           % (top.get(","), mine), lp["top_logprobs"][-1])
    else:
        skip("two tokens with one string in top_logprobs", "the vocabulary is not llama2's with byte fallback")
    # A \u0000 escape is valid JSON, but cJSON's strings end at the NUL: refused naming the field, never cut short.
    for path, raw, param in [
            ("/v1/completions", rb'{"prompt": "Once\u0000 upon a time", "max_tokens": 0, "echo": true}', "prompt"),
            ("/v1/completions", rb'{"prompt": ["Once", "x\u0000"], "max_tokens": 0}', "prompt"),
            ("/v1/completions", rb'{"prompt": "Once", "stop": ["a\u0000b"]}', "stop"),
            ("/v1/completions", rb'{"model": "tiny\u0000x", "prompt": "Once"}', "model"),
            ("/tokenize", rb'{"prompt": "Once\u0000 upon a time"}', "prompt"),
            ("/v1/completions", b'{"prompt": "Once\x00 upon a time", "max_tokens": 0, "echo": true}', "prompt")]:
        st, _, js, _ = srv.request("POST", path, raw=raw)
        ok(err_is(st, js, 400) and js["error"]["param"] == param and "NUL" in js["error"]["message"],
           "%s %s is 400 naming '%s'" % (path, raw.decode()[:48], param), js)
    st, _, js, _ = srv.request("POST", "/v1/completions",
                               raw=rb'{"prompt": "a\\u0000b \\\\", "max_tokens": 0, "echo": true}')
    ok(st == 200 and js["choices"][0]["text"] == "a\\u0000b \\\\",
       "an escaped backslash before u0000 is text, not a NUL", js)
    st, _, js, _ = srv.request("POST", "/detokenize", {"tokens": [-1]})
    ok(err_is(st, js, 400), "/detokenize of an id outside the vocabulary is 400", js)
    js = srv.complete({"model": "tiny", "prompt": "Once", "max_tokens": 0})
    ok(js["choices"][0]["text"] == "" and js["choices"][0]["finish_reason"] == "length" and
       js["usage"]["completion_tokens"] == 0, "max_tokens 0 without echo returns empty text", js)
    # "created" is each response's own time (OpenAI's and vLLM's), not the server's start.
    time.sleep(max(0.0, t_start + 2.2 - time.time()))
    t0 = int(time.time())
    js = srv.complete({"model": "tiny", "prompt": "Once", "max_tokens": 1})
    _, _, models, _ = srv.request("GET", "/v1/models")
    t1 = time.time()
    ok(t0 <= js["created"] <= t1 and t0 <= models["data"][0]["created"] <= t1 and
       js["created"] >= int(t_start) + 2,
       "'created' is the time of each response (%d, /v1/models %d; the server started by %d)"
       % (js["created"], models["data"][0]["created"], t_start), (js, models))
    srv.stop()

    # One prompt at a time and a queue of 100 (the default request timeout: 18 requests of 6 clients queue behind
    # each other, which takes over a second under sanitizers on a loaded machine).
    srv = Server(model, *extra, "--max-batch", "1", "--max-queue", "100")
    # A request the queue can never hold is refused for good (400: a 429 would have clients retry forever); one
    # that does not fit behind the prompts already waiting is 429. The heavy request (100 prompts x 500 tokens,
    # seconds of work) fills the queue; the probe (100 prompts) is sent once the heavy one has had a second to be
    # queued (sent earlier, its own prompts could leave the heavy one no room), then the heavy one is dropped.
    st, _, js, _ = srv.request("POST", "/v1/completions", {"prompt": ["a"] * 101, "max_tokens": 1})
    ok(err_is(st, js, 400) and js["error"]["param"] == "prompt" and "--max-queue" in js["error"]["message"],
       "more prompts than --max-queue is 400 naming the option (never servable, not retryable)", js)
    body = json.dumps({"prompt": ["Once upon a time"] * 100, "max_tokens": 500, "stop": ["zzzz"]}).encode()
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    time.sleep(1.0)
    st, _, js, _ = srv.request("POST", "/v1/completions", {"prompt": ["a"] * 100, "max_tokens": 1})
    s.close()
    ok(err_is(st, js, 429, "queue_full") and "--max-queue" in js["error"]["message"],
       "a request that does not fit behind the prompts waiting is 429 queue_full", (st, str(js)[:300]))
    time.sleep(0.3)  # the heavy request's prompts are cancelled within 100 ms of the disconnect
    # --max-batch 1: every prompt is computed alone, so answers do not depend on the load, bit for bit.
    req = {"prompt": PAIRS[1][0] + PAIRS[1][1], "echo": True, "max_tokens": 6, "logprobs": 2}
    alone = srv.complete(req)["choices"][0]
    loaded, errors = [], []

    def client():
        try:
            for _ in range(3):
                loaded.append(srv.complete(req)["choices"][0])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok(not errors and len(loaded) == 18 and all(c == alone for c in loaded),
       "with --max-batch 1, 6 concurrent clients get exactly the answer of a request alone", errors[:3])
    srv.stop()

    # Limits that need a slow request: a one-second timeout; the heavy request is 64 prompts x 500 generated
    # tokens, several seconds of work on stories260K.
    srv = Server(model, *extra, "--max-batch", "1", "--max-queue", "100", "--request-timeout", "1")
    heavy = {"prompt": ["Once upon a time"] * 64, "max_tokens": 500, "stop": ["zzzz"]}
    t0 = time.time()
    st, _, js, _ = srv.request("POST", "/v1/completions", heavy)
    slow = time.time() - t0
    if st == 200:
        skip("a completion over --request-timeout is 408", "the model finished 64x500 tokens in %.2fs" % slow)
    else:
        ok(err_is(st, js, 408, "request_timeout") and slow < 5, "a completion over --request-timeout is 408 "
           "(after %.1fs)" % slow, js)
    # A client that disconnects: its prompts are cancelled.
    body = json.dumps(heavy).encode()
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    time.sleep(0.3)
    s.close()
    time.sleep(0.5)
    t0 = time.time()
    st, _, js, _ = srv.request("POST", "/v1/completions", {"prompt": "Once", "max_tokens": 2})
    ok(st == 200 and time.time() - t0 < 0.5, "after a client disconnected mid-request the next request is "
       "served at once (its prompts no longer occupy the batch)", (st, js, time.time() - t0))
    code, err = srv.stop()
    abandoned = int(err.split(" abandoned")[0].rsplit(" ", 1)[1]) if " abandoned" in err else -1
    cancelled = int(err.split(" cancelled")[0].rsplit(" ", 1)[1]) if " cancelled" in err else -1
    ok(code == 0 and abandoned >= 1 and cancelled >= 64,
       "the disconnected client's prompts were cancelled (abandoned %d, cancelled %d)" % (abandoned, cancelled),
       err)


def check_shutdown(model, extra):
    """SIGTERM while many requests wait: every request the server accepted gets its answer or a 503 (never a
    closed connection), and the server exits 0 soon after. 30 clients start 5 ms apart, each asking for 2 x 500
    tokens with echo and 20 log-probs (seconds of work with --max-batch 1); the signal comes 0.3 s after the last
    one started. A client may find the port closed (refused: never accepted); nothing else is allowed."""
    srv = Server(model, *extra, "--max-batch", "1", "--threads", "1")
    _, _, models, _ = srv.request("GET", "/v1/models")
    max_tokens = min(500, models["data"][0]["max_model_len"] - 40)
    results = {}

    def client(i):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
            conn.request("POST", "/v1/completions", body=json.dumps(
                {"prompt": ["Once upon a time %d" % i] * 2, "max_tokens": max_tokens, "logprobs": 20, "echo": True}))
            r = conn.getresponse()
            data = r.read()
            ok_body = r.status != 200 or len(json.loads(data)["choices"]) == 2
            results[i] = r.status if ok_body else "bad body"
        except ConnectionRefusedError:
            results[i] = "refused"
        except Exception as e:  # noqa: BLE001 - a dropped connection is what this test looks for
            results[i] = repr(e)[:80]

    threads = []
    for i in range(30):
        threads.append(threading.Thread(target=client, args=(i,)))
        threads[-1].start()
        time.sleep(0.005)
    time.sleep(0.3)
    t0 = time.time()
    code, err = srv.stop()
    took = time.time() - t0
    for t in threads:
        t.join()
    kinds = sorted(set(map(str, results.values())))
    ok(code == 0 and len(results) == 30 and set(results.values()) <= {200, 503, "refused"} and
       503 in results.values() and took < 10,
       "SIGTERM with 30 requests waiting: each accepted one is answered 200 or 503, none dropped (%s; exit %s "
       "after %.2fs)" % (", ".join("%s x%d" % (k, list(map(str, results.values())).count(k)) for k in kinds), code,
                         took), err)


def check_nonfinite(glam, tmp):
    """A checkpoint with a NaN weight: serve answers 500 naming NaN/Inf (as the local runtime fails), never a
    log-prob of NaN (not JSON) or a token chosen from NaN logits."""
    bad = os.path.join(tmp, "glam-nan")
    shutil.copytree(glam, bad)
    path = os.path.join(bad, "model.safetensors")
    with open(path, "r+b") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        f.seek(8 + n + header["model.norm.weight"]["data_offsets"][0])
        f.write(struct.pack("<f", float("nan")))
    srv = Server(bad)
    for body, what in (({"prompt": "Once upon", "max_tokens": 0, "echo": True, "logprobs": 1}, "echo log-probs"),
                       ({"prompt": "Once upon", "max_tokens": 3}, "generation")):
        st, _, js, raw = srv.request("POST", "/v1/completions", body)
        msg = ((js or {}).get("error") or {}).get("message", "")
        ok(st == 500 and "NaN or Inf" in msg, "NaN in the weights, %s: HTTP 500 naming NaN/Inf (%d)" % (what, st),
           raw[:300])
    srv.stop()


def check_bind_failure(model):
    """A server that cannot listen says so in one line of its own (libmicrohttpd prints nothing) and exits 1."""
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        # 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine
        for host, code in (("127.0.0.1", errno.EADDRINUSE), ("192.0.2.1", errno.EADDRNOTAVAIL)):
            r = subprocess.run([BIN, "serve", "--model", model, "--host", host, "--port", str(port)],
                               capture_output=True, text=True, timeout=120)
            want = "glam-eval serve: cannot listen on %s port %d: %s\n" % (host, port, os.strerror(code))
            ok(r.returncode == 1 and r.stderr == want and r.stdout == "",
               "serve on %s port %d (%s): exit 1, only our message naming the port and the reason"
               % (host, port, errno.errorcode[code]), "status %d, stderr %r" % (r.returncode, r.stderr))
    finally:
        taken.close()


def main():
    tmp = tempfile.mkdtemp(prefix="serve-test-")
    try:
        stories = os.path.join(SHARED, "models", "stories260K", "stories260K.gguf")
        if SHARED and os.path.exists(stories):
            check_model("stories260K", stories, ["--max-length", "512"])
            check_errors(stories, ["--max-length", "512"])
            check_shutdown(stories, ["--max-length", "512"])
        else:
            skip("stories260K: server equals the local runtime", "no ../shared/models/stories260K")
        glam = os.path.join(tmp, "glam-tiny")
        run(["init", "--preset", "0.1B/64E", "--scale", "0.05", "--out", glam])
        check_model("init 0.1B/64E", glam, [])
        check_nonfinite(glam, tmp)
        check_bind_failure(glam)
        if not (SHARED and os.path.exists(stories)):
            check_errors(glam, [])
            check_shutdown(glam, [])
    finally:
        subprocess.run(["rm", "-rf", tmp])
    print("1..%d" % n_points)
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
