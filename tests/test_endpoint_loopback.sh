#!/usr/bin/env bash
# test_endpoint_loopback.sh — the endpoint client against `glam-eval serve` on the same checkpoint as the local
# backend: log-likelihoods equal to 1e-5 (token-id prompts with --tokenizer, and text prompts split by text_offset),
# identical greedy generations, and identical per-document scores from `glam-eval run` with a small --limit. Two
# checkpoints: the real stories260K (../shared/models, --max-length 512) and a `glam-eval init` 0.1B/64E MoE
# checkpoint at scale 0.05. Prints TAP; skips without `serve` or ../shared.
set -u
bin=${GLAM_EVAL_BIN:-./glam-eval}
src=${TEST_SRCDIR:-.}
shared=${GLAM_EVAL_SHARED:-../shared}
stories="$shared/models/stories260K/stories260K.gguf"
data="$shared/data"
"$bin" serve --help >/dev/null 2>&1 || { echo "1..0 # SKIP glam-eval serve is not built"; exit 0; }
[ -f "$stories" ] || { echo "1..0 # SKIP ../shared/models/stories260K is absent"; exit 0; }
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
tmp=$(mktemp -d) || exit 1
spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

# close A B: every per-token log-prob within 1e-5 and each sum within 1e-5 per token (the server computes in
# float32 in another order, so a sum of n tokens may differ by up to n times a token's rounding); n_tokens,
# is_greedy and truncated equal. Prints the largest differences seen.
close() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
a = [json.loads(x) for x in open(sys.argv[1]) if x.strip()]
b = [json.loads(x) for x in open(sys.argv[2]) if x.strip()]
bad = len(a) != len(b) or not a
dsum = dtok = 0.0
for x, y in zip(a, b):
    d = abs(x["logprob"] - y["logprob"])
    t = max([abs(p - q) for p, q in zip(x.get("token_logprobs", []), y.get("token_logprobs", []))] or [0.0])
    dsum, dtok = max(dsum, d), max(dtok, t)
    if (d > 1e-5 * max(1, x["n_tokens"]) or t > 1e-5 or x["n_tokens"] != y["n_tokens"]
            or x["is_greedy"] != y["is_greedy"] or x["truncated"] != y["truncated"]):
        print("# differ:", x, y)
        bad = True
print("largest difference %.2g per token, %.2g per sum" % (dtok, dsum))
sys.exit(1 if bad else 0)
EOF
}

cat >"$tmp/reqs.jsonl" <<'EOF'
{"context": "Once upon a time, there was a little girl named", "continuation": " Lily"}
{"context": "", "continuation": "Once upon a time"}
{"context": "The cat sat on the ", "continuation": "mat. It was happy."}
{"context": "Tom had a red ball. He liked to", "continuation": " play with it every day in the park"}
{"context": "One day, a big dog came.", "continuation": " The dog was very friendly and"}
{"context": "Lily saw a 🐶 and a big dog", "continuation": " in the park"}
{"context": "Tom said 日本 to his mom and ran to the", "continuation": " park"}
EOF
grep -v '"context": ""' "$tmp/reqs.jsonl" >"$tmp/reqs_text.jsonl"

"$bin" init --preset 0.1B/64E --scale 0.05 --out "$tmp/glam" >/dev/null 2>&1
for which in stories glam; do
    if [ "$which" = stories ]; then model="$stories" tok="$stories"; else model="$tmp/glam" tok="$tmp/glam/tokenizer.json"; fi
    opts="--max-length 512"
    "$bin" serve --model "$model" --port 0 $opts >"$tmp/serve.out" 2>"$tmp/serve.err" &
    spid=$!
    for _ in $(seq 300); do grep -q listening "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
    url=$(grep -o 'http://[^ ]*/v1' "$tmp/serve.out")
    [ -n "$url" ]; ok $? "$which: glam-eval serve listens ($url)"

    "$bin" loglik --model "$model" $opts --per-token --requests "$tmp/reqs.jsonl" >"$tmp/local.txt" 2>&1
    "$bin" loglik --model "$url" --tokenizer "$tok" $opts --per-token --requests "$tmp/reqs.jsonl" \
        >"$tmp/remote.txt" 2>&1
    close "$tmp/local.txt" "$tmp/remote.txt" >"$tmp/d.txt"
    ok $? "$which: token-id log-likelihoods equal the local backend's to 1e-5 per token ($(tail -1 "$tmp/d.txt"))"
    # several token-id prompts per request: each choice's echo is checked against its ids decoded (a swap would be)
    "$bin" loglik --model "$url" --tokenizer "$tok" $opts --per-token --prompts-per-request 3 \
        --requests "$tmp/reqs.jsonl" >"$tmp/remote3.txt" 2>&1
    close "$tmp/local.txt" "$tmp/remote3.txt" >"$tmp/d.txt"
    ok $? "$which: the same with --prompts-per-request 3 ($(tail -1 "$tmp/d.txt"))"
    "$bin" loglik --model "$model" $opts --per-token --requests "$tmp/reqs_text.jsonl" >"$tmp/local_t.txt" 2>&1
    "$bin" loglik --model "$url" $opts --per-token --requests "$tmp/reqs_text.jsonl" >"$tmp/remote_t.txt" 2>&1
    close "$tmp/local_t.txt" "$tmp/remote_t.txt" >"$tmp/d.txt"
    ok $? "$which: text-prompt log-likelihoods (text_offset split, checked) equal too ($(tail -1 "$tmp/d.txt"))"

    same=0
    for p in "Once upon a time" "The little dog" "Lily went to the park and"; do
        a=$("$bin" generate --model "$model" $opts --prompt "$p" --max-tokens 24 --until "." 2>&1)
        b=$("$bin" generate --model "$url" --tokenizer "$tok" $opts --prompt "$p" --max-tokens 24 --until "." 2>&1)
        c=$("$bin" generate --model "$url" $opts --prompt "$p" --max-tokens 24 --until "." 2>&1)
        [ "$a" = "$b" ] && [ "$a" = "$c" ] || { same=1; echo "# '$a' / '$b' / '$c'"; }
    done
    ok $same "$which: greedy generations are identical (token ids and text)"

    if [ -d "$data/arc_easy" ] && [ -d "$data/lambada" ] && python3 -c 'import sqlite3' 2>/dev/null; then
        ropts="--tasks arc_easy,lambada --shots 0,1 --limit 4 --data-dir $data $opts"
        "$bin" run --model "$model" $ropts --db "$tmp/$which-local.db" >/dev/null 2>"$tmp/run_local.err"
        "$bin" run --model "$url" --tokenizer "$tok" $ropts --db "$tmp/$which-remote.db" >/dev/null 2>"$tmp/run_remote.err"
        rc=$?
        [ "$rc" = 0 ] && python3 "$src/tests/endpoint_check.py" same-scores "$tmp/$which-local.db" "$tmp/$which-remote.db" \
            >"$tmp/same.txt"
        ok $? "$which: glam-eval run through the endpoint gives the local run's scores ($(cat "$tmp/same.txt"))"
    else
        skip "../shared/data (arc_easy, lambada) or python3's sqlite3 is absent"
    fi
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    spid=""
done
echo "1..$n"
