#!/usr/bin/env python3
"""endpoint_check.py — the expected answers and the checks of tests/test_endpoint.sh, computed independently of
glam-eval from the fake server's definitions (endpoint_fake_server.py).

  split FILE.jsonl DIR            writes DIR/ctx_N and DIR/all_N (context without trailing space; whole prompt)
  expect FILE.jsonl IDS DIR PROMPT MAX STOP   writes DIR/expect.txt (text prompts), DIR/expect_ids.txt (from
                                  IDS, lines "ctx_ids|all_ids") and DIR/gen.expect (generation of PROMPT)
  expect-text FILE.jsonl          expected `glam-eval loglik --requests FILE` output for text prompts
  expect-ids TOKENS_FILE          expected output from token ids: each line "ctx_ids|all_ids" (space separated)
  expect-gen PROMPT MAX STOP...   expected `glam-eval generate` output (text prompt)
  faults LOG NAME                 number of requests in the server log answered with fault NAME
  attempts LOG                    the largest attempt number of any request body in the log
  retry-gap LOG                   smallest delay (s) between a 429 and the next attempt of the same prompt
  count LOG                       number of requests in the log
  same-scores A.db B.db           exit 0 when both databases hold the same per-document scores
  not-reasked PHASE1.db LOG       exit 0 when no request answered in PHASE1.db appears in LOG (phase 2's log)
  absent FILE STRING              exit 0 when STRING does not occur in FILE's bytes
"""
import json
import sqlite3
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import endpoint_fake_server as fs  # noqa: E402


def ll_from_values(vals, first, end):
    lps = [fs.token_logprob(vals[i], vals[i - 1]) for i in range(first, end)]
    greedy = all(fs.is_greedy_pos(vals[i], vals[i - 1]) for i in range(first, end))
    total = 0.0
    for x in lps:
        total += x
    return total, end - first, greedy


def fmt(lp, n, greedy):
    return '{"logprob": %r, "n_tokens": %d, "is_greedy": %s, "truncated": false}' % (
        lp, n, "true" if greedy else "false")


def expect_text(path):
    for line in open(path, encoding="utf-8"):
        if not line.strip():
            continue
        r = json.loads(line)
        ctx, cont = r["context"], r["continuation"]
        prompt = ctx + cont
        toks, vals, offs = fs.prompt_tokens(prompt)
        boundary = len(ctx.rstrip())
        first = next(i for i, o in enumerate(offs) if o >= boundary)
        print(fmt(*ll_from_values(vals, first, len(vals))))


def expect_ids(path):
    for line in open(path):
        ctx_s, all_s = line.rstrip("\n").split("|")
        ctx, allv = ctx_s.split(), all_s.split()
        vals = [int(x) for x in allv]
        print(fmt(*ll_from_values(vals, len(ctx), len(vals))))


def expect_gen(prompt, max_tokens, stops):
    toks, vals, offs = fs.prompt_tokens(prompt)
    text, _ = fs.generate_text(vals, int(max_tokens), stops)
    for s in stops:
        i = text.find(s)
        if i >= 0:
            text = text[:i]
    sys.stdout.write(text + "\n")


def read_log(path):
    try:
        return [json.loads(x) for x in open(path) if x.strip()]
    except FileNotFoundError:
        return []


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "split":
        for k, line in enumerate(x for x in open(args[0], encoding="utf-8") if x.strip()):
            r = json.loads(line)
            open("%s/ctx_%d" % (args[1], k), "w", encoding="utf-8").write(r["context"].rstrip())
            open("%s/all_%d" % (args[1], k), "w", encoding="utf-8").write(r["context"] + r["continuation"])
    elif cmd == "expect":
        out = sys.stdout
        sys.stdout = open(args[2] + "/expect.txt", "w", encoding="utf-8")
        expect_text(args[0])
        sys.stdout = open(args[2] + "/expect_ids.txt", "w", encoding="utf-8")
        expect_ids(args[1])
        sys.stdout = open(args[2] + "/gen.expect", "w", encoding="utf-8")
        expect_gen(args[3], args[4], args[5:])
        sys.stdout.close()
        sys.stdout = out
    elif cmd == "expect-text":
        expect_text(args[0])
    elif cmd == "expect-ids":
        expect_ids(args[0])
    elif cmd == "expect-gen":
        expect_gen(args[0], args[1], args[2:])
    elif cmd == "faults":
        print(sum(1 for r in read_log(args[0]) if r.get("fault") == args[1]))
    elif cmd == "attempts":
        print(max([r["attempt"] for r in read_log(args[0])] or [0]))
    elif cmd == "count":
        print(len(read_log(args[0])))
    elif cmd == "retry-gap":
        log = read_log(args[0])
        gaps = []
        for i, r in enumerate(log):
            if r.get("fault") == "429":
                later = [x["t"] for x in log[i + 1:] if x["prompts"] == r["prompts"]]
                if later:
                    gaps.append(later[0] - r["t"])
        print("%.3f" % min(gaps) if gaps else "none")
    elif cmd == "same-scores":
        q = ("SELECT t.task, t.n_shots, s.metric, s.doc_index, s.value FROM scores s "
             "JOIN task_runs t ON t.id = s.task_run_id ORDER BY 1, 2, 3, 4")
        a = sqlite3.connect(args[0]).execute(q).fetchall()
        b = sqlite3.connect(args[1]).execute(q).fetchall()
        if not a or a != b:
            print("scores differ: %d vs %d rows" % (len(a), len(b)))
            for x, y in zip(a, b):
                if x != y:
                    print(x, y)
                    break
            return 1
        print("%d scores equal" % len(a))
    elif cmd == "not-reasked":
        db = sqlite3.connect(args[0])
        done = set()
        for ctx, cont, typ in db.execute(
                "SELECT q.context, q.continuation, q.type FROM requests q JOIN responses r ON r.request_id = q.id"):
            done.add(ctx + (cont or "") if typ == "loglikelihood" else ctx)
        asked = set()
        for r in read_log(args[1]):
            for p in r["prompts"]:
                if isinstance(p, str):
                    asked.add(p)
        both = done & asked
        print("%d answered in phase 1, %d prompts asked in phase 2, %d asked again" % (len(done), len(asked),
                                                                                      len(both)))
        return 1 if both or not done else 0
    elif cmd == "absent":
        data = open(args[0], "rb").read()
        return 1 if args[1].encode() in data else 0
    else:
        print("unknown command " + cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
