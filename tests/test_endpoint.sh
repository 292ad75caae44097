#!/usr/bin/env bash
# test_endpoint.sh — the remote endpoint backend against a fault-injecting fake server (tests/endpoint_fake_server.py,
# whose log-probabilities are a known function of the tokens, so tests/endpoint_check.py computes every expected
# score independently). Covers: text and token-id prompts, generation with stop strings, a server that returns 500
# then succeeds, 429 with Retry-After, stalls (timeout), connection resets, truncated transfers, malformed JSON, the
# wrong number of choices, a server without prompt log-probs (fails at once, generation still works), max_tokens 0
# refused, answers that cannot be scored (vLLM-style and SGLang offsets in text mode, a server adding BOS to token
# ids, a wrong usage.prompt_tokens, token-id choices swapped in a batch), API keys (never printed or stored), retries exhausted, no retry on 401, a dead endpoint taken out of
# rotation, and `glam-eval run` with faults and with a server that dies mid-run and is resumed: same scores as a
# clean run, nothing answered twice. One fake server serves most cases (its faults are switched through POST
# /control). Prints TAP. The `run` part skips without ../shared/data.
set -u
bin=${GLAM_EVAL_BIN:-./glam-eval}
src=${TEST_SRCDIR:-.}
shared=${GLAM_EVAL_SHARED:-../shared}
server="$src/tests/endpoint_fake_server.py"
check="python3 $src/tests/endpoint_check.py"
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
command -v curl >/dev/null 2>&1 || { echo "1..0 # SKIP the curl command is not installed"; exit 0; }
tmp=$(mktemp -d) || exit 1
spids=""
cleanup() { for p in $spids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

# start_server NAME PORT [server options...]: a fake server logging to $tmp/NAME.log; sets $port and $spid
start_server() {
    local name=$1 p=$2
    shift 2
    rm -f "$tmp/$name.port"
    python3 "$server" --port "$p" --port-file "$tmp/$name.port" --log "$tmp/$name.log" "$@" &
    spid=$!
    spids="$spids $spid"
    for _ in $(seq 200); do [ -s "$tmp/$name.port" ] && break; sleep 0.1; done
    port=$(cat "$tmp/$name.port" 2>/dev/null)
}
stop_server() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# setfault FAULTS KEY LOGNAME: switches the main server's faults, required key ("" = none) and log file
setfault() {
    local key=null
    [ -n "$2" ] && key="\"$2\""
    curl -s -X POST --data "{\"fault\": \"$1\", \"require_key\": $key, \"log\": \"$tmp/$3.log\"}" \
        "http://127.0.0.1:$mport/control" >/dev/null
}
count() { grep -c "$2" "$tmp/$1.log" 2>/dev/null || true; }
fast="--retries 4 --timeout 1 --connect-timeout 2 --backoff 0.05"

cat >"$tmp/reqs.jsonl" <<'EOF'
{"context": "The capital of France is", "continuation": " Paris."}
{"context": "Question: is the sky blue?\nAnswer: ", "continuation": "yes it is"}
{"context": "Le café est", "continuation": " très chaud, naïve"}
{"context": "1 2 3 4 5 6 7 8", "continuation": " 9 10 11"}
{"context": "A", "continuation": " b c d e f g h i j k l"}
EOF
head -2 "$tmp/reqs.jsonl" >"$tmp/reqs2.jsonl"
"$bin" init --preset 0.1B/64E --scale 0.05 --out "$tmp/glam" >/dev/null 2>&1
tokf="$tmp/glam/tokenizer.json"
$check split "$tmp/reqs.jsonl" "$tmp"
: >"$tmp/ids.txt"
for k in 0 1 2 3 4; do
    printf '%s|%s\n' "$("$bin" tokenize --tokenizer "$tokf" --bos --text "$(cat "$tmp/ctx_$k")")" \
        "$("$bin" tokenize --tokenizer "$tokf" --bos --text "$(cat "$tmp/all_$k")")" >>"$tmp/ids.txt"
done
$check expect "$tmp/reqs.jsonl" "$tmp/ids.txt" "$tmp" "Hello there" 12 $'\n'
head -2 "$tmp/expect.txt" >"$tmp/expect2.txt"

# ---- clean server: loglik (text), generate, token ids -------------------------------------------------------
start_server main 0 --vocab "$tokf"
mport=$port
url="http://127.0.0.1:$port/v1"
setfault "" "" clean
"$bin" loglik --model "$url" --requests "$tmp/reqs.jsonl" >"$tmp/out.txt" 2>"$tmp/err.txt"
ok $? "loglik through the endpoint (text prompts)"
cmp -s "$tmp/expect.txt" "$tmp/out.txt"; ok $? "log-likelihoods equal the independently computed ones exactly"
grep -q '"echo": true, "max_tokens": 0' "$tmp/clean.log"; ok $? "loglikelihood requests use echo with max_tokens 0"
"$bin" generate --model "$url" --prompt "Hello there" --max-tokens 12 --until $'\n' >"$tmp/gen.txt" 2>>"$tmp/err.txt"
ok $? "generate through the endpoint"
cmp -s "$tmp/gen.txt" "$tmp/gen.expect"; ok $? "generation text equals the expected one, cut at the stop string"
"$bin" loglik --model "$url" --tokenizer "$tokf" --requests "$tmp/reqs.jsonl" >"$tmp/out_ids.txt" 2>>"$tmp/err.txt"
ok $? "loglik with --tokenizer (token-id prompts)"
cmp -s "$tmp/expect_ids.txt" "$tmp/out_ids.txt"; ok $? "token-id log-likelihoods split at the context's tokens exactly"
grep -q '"prompts": \[\[256, ' "$tmp/clean.log"; ok $? "prompts went as token ids starting with BOS"
setfault "" "" batch
"$bin" loglik --model "$url" --prompts-per-request 3 --concurrency 4 --requests "$tmp/reqs.jsonl" \
    >"$tmp/out_b.txt" 2>>"$tmp/err.txt"
[ $? = 0 ] && cmp -s "$tmp/expect.txt" "$tmp/out_b.txt" && grep -q '"prompts": \["The capital.*", ".*", ".*"\]' \
    "$tmp/batch.log"
ok $? "--prompts-per-request 3 sends 3 prompts per request, same answers"

# ---- faults that are retried: the answers stay exact ----------------------------------------------------------
for fault in 500 429 stall reset truncated badjson wrongn; do
    setfault "$fault" "" "f_$fault"
    reqs="$tmp/reqs.jsonl" want="$tmp/expect.txt" least=5 # the probe's prompt is the first line's
    case $fault in 429 | stall) reqs="$tmp/reqs2.jsonl" want="$tmp/expect2.txt" least=2 ;; esac
    "$bin" loglik --model "$url" --model-name fake-model $fast --requests "$reqs" >"$tmp/out_$fault.txt" \
        2>"$tmp/err_$fault.txt"
    rc=$?
    hits=$(count "f_$fault" "\"fault\": \"$fault\"")
    [ "$rc" = 0 ] && cmp -s "$want" "$tmp/out_$fault.txt" && [ "$hits" -ge "$least" ]
    ok $? "fault '$fault' on every first attempt ($hits injected): retried, exact answers"
done
# malformed 200 answers on every first attempt: a log-prob above 0, choices swapped under their index (their echo
# is another prompt's), "text": null. Each is rejected and asked again, never stored.
for fault in poslogprob swapecho textnull; do
    setfault "$fault" "" "m_$fault"
    "$bin" loglik --model "$url" --model-name fake-model $fast --prompts-per-request 2 --requests "$tmp/reqs.jsonl" \
        >"$tmp/out_$fault.txt" 2>"$tmp/err_$fault.txt"
    rc=$?
    hits=$(count "m_$fault" "\"fault\": \"$fault\"")
    [ "$rc" = 0 ] && cmp -s "$tmp/expect.txt" "$tmp/out_$fault.txt" && [ "$hits" -ge 2 ]
    ok $? "malformed answer '$fault' on every first attempt ($hits injected): rejected, retried, exact answers"
done
grep -q "token_logprobs\[[0-9]*\] is 0.7, not a log-probability" "$tmp/err_poslogprob.txt" &&
    grep -q "the echoed text is not the prompt sent" "$tmp/err_swapecho.txt" &&
    grep -q '"text" is null, not a string' "$tmp/err_textnull.txt"
ok $? "each rejection names what is wrong"
setfault alwaysposlogprob "" m_always
"$bin" loglik --model "$url" --model-name fake-model --retries 1 --backoff 0.05 --requests "$tmp/reqs2.jsonl" \
    >/dev/null 2>"$tmp/err_alwayspos.txt"
[ $? = 1 ] && grep -q "not a log-probability" "$tmp/err_alwayspos.txt"
ok $? "a server that always sends a log-prob above 0 fails the call; nothing is scored from it"
setfault gennul "" m_gennul
"$bin" generate --model "$url" --prompt "Hello there" --max-tokens 12 >"$tmp/gen_nul.txt" 2>"$tmp/err_gennul.txt"
[ $? = 1 ] && grep -q "NUL" "$tmp/err_gennul.txt"
ok $? "generated text with a NUL is an error for that request (not a text cut at the NUL)"

printf '{"context": "Hello", "continuation": " world"}\n{"context": "Hel\\u0000lo", "continuation": " world"}\n' \
    >"$tmp/nulreq.jsonl"
setfault "" "" nulreq
"$bin" loglik --model "$url" --requests "$tmp/nulreq.jsonl" >/dev/null 2>"$tmp/err_nulreq.txt"
[ $? = 1 ] && grep -q "nulreq.jsonl: line 2: a NUL character (\\\\u0000) at byte 16" "$tmp/err_nulreq.txt"
ok $? "a requests file with a \\u0000 escape is refused, naming the line (the context would end there)"

grep -q "retry 1 of 4" "$tmp/err_500.txt"; ok $? "retries are reported on stderr"
gap=$($check retry-gap "$tmp/f_429.log")
case $gap in none | 0.[0-8]* | 0.9[0-4]*) false ;; *) true ;; esac
ok $? "Retry-After: 1 is honoured (smallest gap ${gap} s)"

# ---- a server without prompt log-probs: loglikelihood fails at once, generation works ---------------------------
for fault in noecho noecho400; do
    setfault "$fault" "" "n_$fault"
    "$bin" loglik --model "$url" --requests "$tmp/reqs.jsonl" >/dev/null 2>"$tmp/err_$fault.txt"
    rc=$?
    grep -q "127.0.0.1:$port/v1: server does not return prompt log-probabilities (echo=true)" "$tmp/err_$fault.txt"
    [ $? = 0 ] && [ "$rc" = 1 ] && [ "$(wc -l <"$tmp/n_$fault.log")" -le 2 ]
    ok $? "$fault: loglik fails at once naming the server and echo=true (only the probe was sent)"
    "$bin" generate --model "$url" --prompt "Hello there" --max-tokens 12 --until $'\n' \
        >"$tmp/gen_$fault.txt" 2>/dev/null && cmp -s "$tmp/gen_$fault.txt" "$tmp/gen.expect"
    ok $? "$fault: generation still works"
done

# ---- answers whose offsets or positions cannot be trusted: refused, never scored ---------------------------------
# vLLM lists BOS as "<s>" and adds up token lengths, so every text_offset is 3 too far (the probe sees it)
setfault vllmbos "" o_vllmbos
"$bin" loglik --model "$url" --requests "$tmp/reqs.jsonl" >"$tmp/out_vllmbos.txt" 2>"$tmp/err_vllmbos.txt"
rc=$?
[ "$rc" = 1 ] && [ ! -s "$tmp/out_vllmbos.txt" ] && [ "$(wc -l <"$tmp/o_vllmbos.log")" -le 2 ] &&
    grep -q "text prompts cannot be scored on this server: .*tokens\[0\] \"<s>\" is not the echoed text.*--tokenizer" \
        "$tmp/err_vllmbos.txt"
ok $? "vLLM-style offsets (BOS as \"<s>\"): text loglik refused at the probe, naming --tokenizer, nothing scored"
"$bin" loglik --model "$url" --tokenizer "$tokf" --requests "$tmp/reqs.jsonl" >"$tmp/out_vllmbos_ids.txt" 2>&1 &&
    cmp -s "$tmp/expect_ids.txt" "$tmp/out_vllmbos_ids.txt"
ok $? "vLLM-style offsets: with --tokenizer the answers are exact"
"$bin" generate --model "$url" --prompt "Hello there" --max-tokens 12 --until $'\n' >"$tmp/gen_vllmbos.txt" \
    2>/dev/null &&
    cmp -s "$tmp/gen_vllmbos.txt" "$tmp/gen.expect"
ok $? "vLLM-style offsets: generation still works"
# a token with non-ASCII characters listed as U+FFFD pairs: the ASCII probe passes, that prompt is refused
setfault vllmfffd "" o_vllmfffd
"$bin" loglik --model "$url" --requests "$tmp/reqs.jsonl" >"$tmp/out_fffd_all.txt" 2>"$tmp/err_vllmfffd.txt"
rc=$?
[ "$rc" = 1 ] && grep -q "reqs.jsonl: line 3: .*text_offset does not locate its tokens in this prompt.*--tokenizer" \
    "$tmp/err_vllmfffd.txt"
ok $? "vLLM-style U+FFFD token strings: the prompt they shift is refused per request, naming --tokenizer"
sed 3d "$tmp/reqs.jsonl" >"$tmp/reqs_ascii.jsonl"
sed 3d "$tmp/expect.txt" >"$tmp/expect_ascii.txt"
sed 3d "$tmp/out_fffd_all.txt" | cmp -s "$tmp/expect_ascii.txt" - && sed -n 3p "$tmp/out_fffd_all.txt" |
    grep -q '^{"error":".*text_offset does not locate' &&
    grep -q "reqs.jsonl: 1 of $(wc -l <"$tmp/reqs.jsonl") requests failed, the first on line 3" "$tmp/err_vllmfffd.txt"
ok $? "loglik goes on past the refused request: one output line per request, its line an error (exit 1)"
"$bin" loglik --model "$url" --requests "$tmp/reqs_ascii.jsonl" >"$tmp/out_vllmfffd.txt" 2>/dev/null &&
    cmp -s "$tmp/expect_ascii.txt" "$tmp/out_vllmfffd.txt"
ok $? "vLLM-style U+FFFD token strings: ASCII prompts (offsets that check out) are exact"
# SGLang: text_offset -1. Token ids and generation need no offsets; text prompts are refused at the probe
setfault negoffsets "" o_neg
"$bin" loglik --model "$url" --tokenizer "$tokf" --requests "$tmp/reqs.jsonl" >"$tmp/out_neg_ids.txt" 2>&1 &&
    cmp -s "$tmp/expect_ids.txt" "$tmp/out_neg_ids.txt"
ok $? "text_offset -1 (SGLang): token-id log-likelihoods are exact"
"$bin" generate --model "$url" --prompt "Hello there" --max-tokens 12 --until $'\n' >"$tmp/gen_neg.txt" 2>/dev/null &&
    cmp -s "$tmp/gen_neg.txt" "$tmp/gen.expect"
ok $? "text_offset -1 (SGLang): generation works"
"$bin" loglik --model "$url" --requests "$tmp/reqs.jsonl" >/dev/null 2>"$tmp/err_neg.txt"
[ $? = 1 ] && grep -q "text prompts cannot be scored on this server: .*text_offset is -1.*--tokenizer" "$tmp/err_neg.txt"
ok $? "text_offset -1 (SGLang): text loglik refused at the probe, naming --tokenizer"
# a server that puts BOS before token ids: one position more than ids sent, so the slice would be shifted
setfault addbos "" o_addbos
"$bin" loglik --model "$url" --tokenizer "$tokf" --requests "$tmp/reqs.jsonl" >"$tmp/out_addbos.txt" \
    2>"$tmp/err_addbos.txt"
rc=$?
[ "$rc" = 1 ] && [ ! -s "$tmp/out_addbos.txt" ] && [ "$(wc -l <"$tmp/o_addbos.log")" -le 2 ] &&
    grep -q "token-id prompts cannot .*logprobs cover [0-9]* positions, the request sent [0-9]* token ids and max_tokens 0 (the server adds tokens" \
        "$tmp/err_addbos.txt"
ok $? "a server that adds BOS to token ids: refused at the probe, naming its count of positions"
"$bin" generate --model "$url" --tokenizer "$tokf" --prompt "Hello there" --max-tokens 12 >/dev/null 2>&1
ok $? "a server that adds BOS to token ids: generation still works"
setfault badusage "" o_badusage
"$bin" loglik --model "$url" --tokenizer "$tokf" $fast --prompts-per-request 2 --requests "$tmp/reqs.jsonl" \
    >"$tmp/out_badusage.txt" 2>"$tmp/err_badusage.txt"
rc=$?
[ "$rc" = 0 ] && cmp -s "$tmp/expect_ids.txt" "$tmp/out_badusage.txt" &&
    grep -q "usage.prompt_tokens is [0-9]*, the request sent [0-9]* token ids" "$tmp/err_badusage.txt"
ok $? "usage.prompt_tokens other than the ids sent: rejected, retried, exact answers"
# token ids, two prompts per request, choices swapped under their index: only the echoed text tells
setfault swapecho "" m_swapids
"$bin" loglik --model "$url" --tokenizer "$tokf" $fast --prompts-per-request 2 --requests "$tmp/reqs.jsonl" \
    >"$tmp/out_swapids.txt" 2>"$tmp/err_swapids.txt"
rc=$?
[ "$rc" = 0 ] && cmp -s "$tmp/expect_ids.txt" "$tmp/out_swapids.txt" &&
    [ "$(count m_swapids '"fault": "swapecho"')" -ge 2 ] &&
    grep -q "choice 0: the echoed text is prompt 1's, not the prompt sent" "$tmp/err_swapids.txt"
ok $? "token ids, --prompts-per-request 2, swapped choices: rejected, retried, exact answers"
setfault idecho "" o_idecho
"$bin" loglik --model "$url" --tokenizer "$tokf" --prompts-per-request 2 --requests "$tmp/reqs.jsonl" \
    >/dev/null 2>"$tmp/err_idecho.txt"
[ $? = 1 ] && grep -q "echo of a token-id prompt is not that prompt's text.*use --prompts-per-request 1" \
    "$tmp/err_idecho.txt"
ok $? "token ids batched on a server whose echo is not the prompt's text: refused (a swap could not be seen)"
"$bin" loglik --model "$url" --tokenizer "$tokf" --requests "$tmp/reqs.jsonl" >"$tmp/out_idecho.txt" 2>&1 &&
    cmp -s "$tmp/expect_ids.txt" "$tmp/out_idecho.txt"
ok $? "the same server, one prompt per request: exact answers"

# ---- max_tokens 0 refused: max_tokens 1, generated position dropped ----------------------------------------------
setfault nomax0 "" nomax0
"$bin" loglik --model "$url" --requests "$tmp/reqs.jsonl" >"$tmp/out_nomax0.txt" 2>/dev/null &&
    cmp -s "$tmp/expect.txt" "$tmp/out_nomax0.txt" && grep -q '"max_tokens": 1, "status": 200' "$tmp/nomax0.log"
ok $? "a server refusing max_tokens 0 is asked with 1 and the generated position is dropped"

# ---- API key ----------------------------------------------------------------------------------------------------
key="sk-test-$$-d0n0tl0g"
setfault "" "$key" key
GE_TEST_KEY="$key" "$bin" loglik --model "$url" --api-key-env GE_TEST_KEY \
    --requests "$tmp/reqs.jsonl" >"$tmp/out_key.txt" 2>"$tmp/err_key.txt" && cmp -s "$tmp/expect.txt" "$tmp/out_key.txt"
ok $? "--api-key-env sends the key"
setfault "" "$key" badkey
GE_TEST_KEY="wrong-$key" "$bin" loglik --model "$url" --model-name fake-model $fast \
    --api-key-env GE_TEST_KEY --requests "$tmp/reqs.jsonl" >/dev/null 2>"$tmp/err_badkey.txt"
rc=$?
[ "$rc" = 1 ] && grep -q "HTTP 401.*check --api-key-env" "$tmp/err_badkey.txt" && [ "$(count badkey 401)" = 1 ]
ok $? "a wrong key fails with HTTP 401 after one attempt (4xx is not retried)"
! grep -q "$key" "$tmp/err_key.txt" "$tmp/err_badkey.txt"; ok $? "the key never appears on stderr"
"$bin" loglik --model "$url" --api-key-env GE_TEST_UNSET_VAR --requests "$tmp/reqs.jsonl" \
    >/dev/null 2>"$tmp/err_nokey.txt"
grep -q "GE_TEST_UNSET_VAR: that environment variable is not set" "$tmp/err_nokey.txt"
ok $? "an unset --api-key-env variable is named"

# ---- retries exhausted; dead endpoints ----------------------------------------------------------------------------
setfault always500 "" always
"$bin" loglik --model "$url" --model-name fake-model --retries 2 --backoff 0.05 --context "a b" --continuation " c" \
    >/dev/null 2>"$tmp/err_always.txt"
rc=$?
[ "$rc" = 1 ] && grep -q "127.0.0.1:$port/v1/completions: request failed after 3 attempts; last error: HTTP 500" \
    "$tmp/err_always.txt" && [ "$(count always '"status": 500')" = 3 ]
ok $? "a server that always answers 500 fails after --retries with the URL and the status"
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
setfault "" "" live
printf '# two replicas\nhttp://127.0.0.1:%s/v1\n\nhttp://127.0.0.1:%s/v1\n' "$dead" "$port" >"$tmp/urls.txt"
"$bin" loglik --model "@$tmp/urls.txt" $fast --requests "$tmp/reqs.jsonl" >"$tmp/out_dead.txt" 2>"$tmp/err_dead.txt"
rc=$?
[ "$rc" = 0 ] && cmp -s "$tmp/expect.txt" "$tmp/out_dead.txt"; ok $? "a dead replica among two: exact answers"
grep -q "127.0.0.1:$dead/v1: 3 connection failures in a row.*taken out of rotation" "$tmp/err_dead.txt"
ok $? "the dead endpoint is taken out of rotation and reported"

# ---- glam-eval run: faults, a server that dies, resume --------------------------------------------------------------
data="$shared/data"
if [ ! -d "$data/arc_easy" ] || [ ! -d "$data/lambada" ] || [ ! -d "$data/triviaqa" ] || ! python3 -c 'import sqlite3' 2>/dev/null; then
    for i in 1 2 3 4 5 6 7 8; do skip "../shared/data (arc_easy, lambada, triviaqa) or python3's sqlite3 is absent"; done
else
    ropts="--tasks arc_easy,lambada --shots 0,1 --limit 8 --data-dir $data --concurrency 8 $fast"
    setfault "" "" rclean
    "$bin" run --model "$url" $ropts --db "$tmp/ref.db" >"$tmp/ref.out" 2>"$tmp/ref.err"
    ok $? "run on arc_easy and lambada through a clean server"

    setfault "500,reset,truncated,wrongn" "$key" rfault
    GE_TEST_KEY="$key" "$bin" run --model "$url" --api-key-env GE_TEST_KEY $ropts \
        --db "$tmp/fault.db" >"$tmp/fault.out" 2>"$tmp/fault.err"
    rc=$?
    [ "$rc" = 0 ] && $check same-scores "$tmp/ref.db" "$tmp/fault.db" >/dev/null
    ok $? "run through a faulty server ends with the clean run's scores"
    ! grep -qaF "$key" "$tmp/fault.db" "$tmp/fault.err" "$tmp/fault.out"
    ok $? "the API key is in neither the database nor the output"

    # a generation prompt the server refuses as too long (HTTP 400) is that document's error, not the run's
    setfault "gen400=120" "" rgen400
    "$bin" run --model "$url" --tasks triviaqa --shots 0,1 --limit 6 --data-dir "$data" $fast --db "$tmp/g400.db" \
        >"$tmp/g400.out" 2>"$tmp/g400.err"
    rc=$?
    refused=$(count rgen400 '"fault": "gen400"')
    got=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("SELECT count(*) FROM responses WHERE error LIKE ?", ("%maximum context length%",)).fetchone()[0], c.execute("SELECT count(*) FROM responses WHERE error IS NULL").fetchone()[0], c.execute("SELECT status FROM runs").fetchone()[0])' "$tmp/g400.db")
    echo "# gen400: exit $rc, $refused refused; errors, answers, status: $got"
    [ "$rc" = 0 ] && [ "$refused" -ge 1 ] && [ "$got" = "$refused $((12 - refused)) finished" ] &&
        grep -q "not scored: .*HTTP 400: This model's maximum context length" "$tmp/g400.err"
    ok $? "a generation prompt refused as too long: its document unscored with the server's message, the run finishes"

    setfault "noecho400" "" rnoecho
    "$bin" run --model "$url" $ropts --db "$tmp/noecho.db" >/dev/null 2>"$tmp/noecho.err"
    rc=$?
    [ "$rc" = 1 ] && grep -q "task arc_easy: .*server does not return prompt log-probabilities" "$tmp/noecho.err" &&
        [ "$(wc -l <"$tmp/rnoecho.log")" -le 2 ]
    ok $? "run with a loglikelihood task on a server without echo fails before any work"

    start_server rdie 0 --fault die_after=20
    rport=$port
    "$bin" run --model "http://127.0.0.1:$rport/v1" $ropts --batch-size 8 --retries 1 --db "$tmp/die.db" \
        >/dev/null 2>"$tmp/die.err"
    rc=$?
    wait "$spid" 2>/dev/null
    [ "$rc" = 1 ] && grep -q "127.0.0.1:$rport/v1/completions: request failed after 2 attempts" "$tmp/die.err"
    ok $? "a server that dies mid-run fails the run with a clear error"
    cp "$tmp/die.db" "$tmp/die_phase1.db"
    # Answers are committed as they arrive, not per batch: batches of 8 would keep only the 16 of the two batches
    # finished before the server died at its 20th answer (the probe included). Answers the server logged but was
    # killed while sending are not received, so at most the logged ones (probe excluded) are stored.
    got=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM responses").fetchone()[0])' "$tmp/die_phase1.db")
    want=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("status") == 200) - 1)' "$tmp/rdie.log")
    [ "$got" -gt 16 ] && [ "$got" -le "$want" ]; ok $? "answers received before the server died are stored at once ($got; server logged $want)"
    start_server rdie2 "$rport"
    run_id=$(grep -o 'resume with: glam-eval run --resume [0-9]*' "$tmp/die.err" | grep -o '[0-9]*$')
    "$bin" run --model "http://127.0.0.1:$rport/v1" $ropts --batch-size 8 --db "$tmp/die.db" --resume "$run_id" \
        >/dev/null 2>"$tmp/die2.err"
    rc=$?
    [ "$rc" = 0 ] && $check same-scores "$tmp/ref.db" "$tmp/die.db" >/dev/null
    ok $? "the resumed run ends with the clean run's scores"
    $check not-reasked "$tmp/die_phase1.db" "$tmp/rdie2.log" >"$tmp/reasked.txt"
    ok $? "nothing stored before the failure was asked again ($(cat "$tmp/reasked.txt"))"
    stop_server "$spid"
fi
echo "1..$n"
