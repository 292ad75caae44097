#!/bin/sh
# test_cli.sh — the command-line contract: exit codes (0 ok, 1 failure, 2 usage), --help on every command,
# errors on stderr naming what was wrong. Prints TAP.
bin=${GLAM_EVAL_BIN:-./glam-eval}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
check() { # check DESCRIPTION EXPECTED_STATUS ACTUAL_STATUS
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, want $2)"; fails=$((fails + 1)); fi
}
contains() { # contains DESCRIPTION FILE PATTERN
    n=$((n + 1))
    if grep -q -- "$3" "$2"; then echo "ok $n - $1"; else
        echo "not ok $n - $1 (no '$3' in:)"; sed 's/^/#   /' "$2"; fails=$((fails + 1)); fi
}

"$bin" >"$tmp/out" 2>"$tmp/err"; check "no command is a usage error" 2 $?
contains "no command prints the command list on stderr" "$tmp/err" "Commands:"
"$bin" --help >"$tmp/out" 2>&1; check "--help succeeds" 0 $?
contains "--help lists commands" "$tmp/out" "version"
"$bin" frobnicate >"$tmp/out" 2>"$tmp/err"; check "unknown command is a usage error" 2 $?
contains "unknown command is named" "$tmp/err" "unknown command 'frobnicate'"
for cmd in $("$bin" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}'); do
    "$bin" "$cmd" --help >"$tmp/out" 2>&1; check "$cmd --help succeeds" 0 $?
    contains "$cmd --help prints usage" "$tmp/out" "usage: glam-eval $cmd"
    "$bin" "$cmd" --no-such-option >"$tmp/out" 2>"$tmp/err"; check "$cmd: unknown option is a usage error" 2 $?
    contains "$cmd: unknown option is named" "$tmp/err" "no-such-option"
    "$bin" help "$cmd" >"$tmp/out" 2>&1; check "help $cmd succeeds" 0 $?
done
"$bin" version >"$tmp/out" 2>&1; check "version succeeds" 0 $?
contains "version names the program" "$tmp/out" "^glam-eval [0-9]"
contains "version names sqlite" "$tmp/out" "^sqlite 3"
contains "version names zlib" "$tmp/out" "^zlib 1"
contains "version names zstd" "$tmp/out" "^zstd 1"
contains "version names libmicrohttpd" "$tmp/out" "^libmicrohttpd 0"
contains "version names the unicode tables" "$tmp/out" "^unicode 14"
"$bin" --version >"$tmp/out" 2>&1; check "--version is version" 0 $?
"$bin" version extra >"$tmp/out" 2>"$tmp/err"; check "version with an argument is a usage error" 2 $?

# db: init, info, migrate, and refusal to touch what is not ours
db="$tmp/results.db"
"$bin" db init --db "$db" >"$tmp/out" 2>&1; check "db init creates a database" 0 $?
contains "db init says it created it" "$tmp/out" "created at schema version"
"$bin" db init --db "$db" >"$tmp/out" 2>&1; check "db init on an existing database succeeds" 0 $?
contains "db init says it already existed" "$tmp/out" "already a glam-eval database"
"$bin" db info --db "$db" >"$tmp/out" 2>&1; check "db info succeeds" 0 $?
contains "db info shows WAL mode" "$tmp/out" "journal mode    wal"
contains "db info counts runs" "$tmp/out" "^  runs  *0"
GLAM_EVAL_DB="$db" "$bin" db migrate >"$tmp/out" 2>&1; check "db migrate via GLAM_EVAL_DB succeeds" 0 $?
contains "db migrate: nothing to do" "$tmp/out" "already at the current schema version"
"$bin" db info --db "$tmp/missing.db" >"$tmp/out" 2>"$tmp/err"; check "db info on a missing file fails" 1 $?
contains "db info names the missing file" "$tmp/err" "missing.db"
n=$((n + 1)); if [ -e "$tmp/missing.db" ]; then echo "not ok $n - db info created the missing file"; fails=$((fails + 1)); else echo "ok $n - db info does not create a missing file"; fi
printf 'this is not a database\n' >"$tmp/text.db"
sum_before=$(cksum <"$tmp/text.db")
"$bin" db init --db "$tmp/text.db" >"$tmp/out" 2>"$tmp/err"; check "db init on a text file fails" 1 $?
contains "the error says it is not a database" "$tmp/err" "not a SQLite database"
n=$((n + 1)); if [ "$(cksum <"$tmp/text.db")" = "$sum_before" ] && [ ! -e "$tmp/text.db-wal" ]; then
    echo "ok $n - the text file is left untouched"; else echo "not ok $n - the text file was modified"; fails=$((fails + 1)); fi
if command -v sqlite3 >/dev/null 2>&1; then
    cp "$db" "$tmp/newer.db"
    sqlite3 "$tmp/newer.db" 'PRAGMA user_version = 999;'
    sum_before=$(cksum <"$tmp/newer.db")
    "$bin" db migrate --db "$tmp/newer.db" >"$tmp/out" 2>"$tmp/err"; check "db migrate on a newer schema fails" 1 $?
    contains "the error names the newer version" "$tmp/err" "999"
    n=$((n + 1)); if [ "$(cksum <"$tmp/newer.db")" = "$sum_before" ]; then echo "ok $n - the newer database is untouched";
    else echo "not ok $n - the newer database was modified"; fails=$((fails + 1)); fi
else
    n=$((n + 1)); echo "ok $n - newer-schema CLI check # SKIP sqlite3 command not installed"
fi
"$bin" db frobnicate --db "$db" >"$tmp/out" 2>"$tmp/err"; check "db with an unknown subcommand is a usage error" 2 $?
"$bin" db >"$tmp/out" 2>"$tmp/err"; check "db without a subcommand is a usage error" 2 $?

# a bad argument is refused before the database is created: no command leaves a new empty database behind
absent() { # absent DESCRIPTION FILE
    n=$((n + 1))
    if [ -e "$2" ]; then echo "not ok $n - $1 ($2 was created)"; fails=$((fails + 1)); else echo "ok $n - $1"; fi
}
pub="${TEST_SRCDIR:-.}/published"
"$bin" import published --data-dir "$pub" --only nosuch --db "$tmp/n1.db" >"$tmp/out" 2>"$tmp/err"
check "import published --only with an unknown label fails" 1 $?
contains "the unknown label is named" "$tmp/err" 'labelled "nosuch"'
absent "import published --only with an unknown label creates no database" "$tmp/n1.db"
"$bin" import published --data-dir "$pub" --only , --db "$tmp/n2.db" >"$tmp/out" 2>"$tmp/err"
check "import published --only with no label is a usage error" 2 $?
absent "import published --only with no label creates no database" "$tmp/n2.db"
"$bin" import published --data-dir "$tmp/nowhere" --db "$tmp/n3.db" >"$tmp/out" 2>"$tmp/err"
check "import published from a missing directory fails" 1 $?
absent "import published from a missing directory creates no database" "$tmp/n3.db"
"$bin" db delete-run 1 --yes --db "$tmp/n9.db" >"$tmp/out" 2>&1; check "db delete-run on a missing database fails" 1 $?
absent "db delete-run creates no database" "$tmp/n9.db"
"$bin" db delete-run 0 --db "$tmp/n9.db" >"$tmp/out" 2>&1; check "db delete-run 0 is a usage error" 2 $?
"$bin" db delete-run --db "$tmp/n9.db" >"$tmp/out" 2>&1; check "db delete-run without a run is a usage error" 2 $?
"$bin" db info --yes --db "$tmp/n9.db" >"$tmp/out" 2>&1; check "--yes outside delete-run is a usage error" 2 $?
"$bin" import published --data-dir "$pub" --db "$tmp/pub.db" >"$tmp/out" 2>"$tmp/err"
check "import published into a new database" 0 $?
"$bin" db delete-run 1 --yes --db "$tmp/pub.db" >"$tmp/out" 2>"$tmp/err"; check "db delete-run of a published run fails" 1 $?
contains "it says a published run is read-only" "$tmp/err" "run 1 is a published reference run (glam-eval import published): it is read-only"
"$bin" report --run 1 --db "$tmp/pub.db" >"$tmp/out" 2>&1; check "the published run is still there" 0 $?
"$bin" report --format nosuch --db "$tmp/n4.db" >"$tmp/out" 2>&1; check "report --format nosuch is a usage error" 2 $?
"$bin" report --run 5 --db "$tmp/n4.db" >"$tmp/out" 2>&1; check "report on a missing database fails" 1 $?
absent "report creates no database" "$tmp/n4.db"
"$bin" compare 1 x --db "$tmp/n5.db" >"$tmp/out" 2>&1; check "compare with a bad run id is a usage error" 2 $?
"$bin" compare 1 2 --db "$tmp/n5.db" >"$tmp/out" 2>&1; check "compare on a missing database fails" 1 $?
absent "compare creates no database" "$tmp/n5.db"
"$bin" contamination merge "$tmp/nopart" --db "$tmp/n6.db" >"$tmp/out" 2>&1; check "contamination merge of a missing part fails" 1 $?
absent "contamination merge of a missing part creates no database" "$tmp/n6.db"
"$bin" contamination report --db "$tmp/n7.db" >"$tmp/out" 2>&1; check "contamination report on a missing database fails" 1 $?
absent "contamination report creates no database" "$tmp/n7.db"
printf 'some text\n' >"$tmp/corpus.txt"
"$bin" contamination scan --index "$tmp/none.idx" --db "$tmp/n8.db" "$tmp/corpus.txt" >"$tmp/out" 2>"$tmp/err"
check "contamination scan with a missing index fails" 1 $?
contains "the missing index is named" "$tmp/err" "none.idx"
absent "contamination scan with a missing index creates no database" "$tmp/n8.db"
"$bin" contamination scan --index "$tmp/none.idx" --db "$tmp/n9.db" "$tmp/nocorpus" >"$tmp/out" 2>&1
check "contamination scan of a missing corpus fails" 1 $?
absent "contamination scan of a missing corpus creates no database" "$tmp/n9.db"

# score: the bundled example reproduces the official script's output byte for byte
src=${TEST_SRCDIR:-.}
"$bin" score squad_v2 --dataset "$src/examples/squad_v2-mini.json" --predictions "$src/examples/squad_v2-mini-predictions.json" >"$tmp/out" 2>"$tmp/err"
check "score squad_v2 on the bundled example succeeds" 0 $?
grep -v '^#' "$src/tests/data/squad_v2_mini_official_stdout.txt" >"$tmp/want"
n=$((n + 1)); if cmp -s "$tmp/out" "$tmp/want"; then echo "ok $n - score squad_v2 prints exactly what evaluate-v2.0.py prints";
else echo "not ok $n - score squad_v2 output differs from evaluate-v2.0.py"; diff "$tmp/want" "$tmp/out" | sed 's/^/#   /'; fails=$((fails + 1)); fi
# the README's command for the bundled example (examples/, run from the source tree) prints the same
readme_cmd=$(tr '\n' ' ' <"$src/README.md" | grep -o '`glam-eval score squad_v2 --dataset [^`]*`' | head -n 1 | tr -d '`')
absbin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
n=$((n + 1))
# shellcheck disable=SC2086 # the command's words, split as the shell splits them (plain words, no quoting)
if [ -n "$readme_cmd" ] && (set -- $readme_cmd && shift && cd "$src" && "$absbin" "$@") >"$tmp/out" 2>&1 &&
    cmp -s "$tmp/out" "$tmp/want"; then
    echo "ok $n - README's score command for examples/ prints what evaluate-v2.0.py prints"
else echo "not ok $n - README's score command for examples/ (${readme_cmd:-none found}) fails or differs"; fails=$((fails + 1)); fi
"$bin" score squad_v2 --dataset "$src/examples/squad_v2-mini.json" --predictions "$src/examples/squad_v2-mini-predictions.json" --out "$tmp/scores.json" >"$tmp/out" 2>&1
check "score --out succeeds" 0 $?
n=$((n + 1)); if cmp -s "$tmp/scores.json" "$tmp/want"; then echo "ok $n - score --out writes the report to the file"; else echo "not ok $n - score --out file differs"; fails=$((fails + 1)); fi
"$bin" score squad_v2 --dataset "$tmp/nope.json" --predictions "$src/examples/squad_v2-mini-predictions.json" >"$tmp/out" 2>"$tmp/err"
check "score with a missing dataset fails" 1 $?
contains "the error names the missing dataset" "$tmp/err" "nope.json"
printf '{"mini-01": "x",\n "mini-02": }\n' >"$tmp/bad-preds.json"
"$bin" score squad_v2 --dataset "$src/examples/squad_v2-mini.json" --predictions "$tmp/bad-preds.json" >"$tmp/out" 2>"$tmp/err"
check "score with malformed predictions fails" 1 $?
contains "the error names the predictions file" "$tmp/err" "bad-preds.json"
printf '{"mini-01": "James Douglass"}\n' >"$tmp/partial.json"
"$bin" score squad_v2 --dataset "$src/examples/squad_v2-mini.json" --predictions "$tmp/partial.json" >"$tmp/out" 2>"$tmp/err"
check "score squad_v2 with missing predictions fails (the official script crashes)" 1 $?
contains "the error names a missing question" "$tmp/err" "mini-02"
"$bin" score squad_v2 --missing-as-zero --dataset "$src/examples/squad_v2-mini.json" --predictions "$tmp/partial.json" >"$tmp/out" 2>"$tmp/err"
check "score squad_v2 --missing-as-zero scores them 0" 0 $?
contains "one exact answer out of ten is 10%" "$tmp/out" '"exact": 10.0'
"$bin" score bleu --dataset a --predictions b >"$tmp/out" 2>"$tmp/err"; check "score with an unknown metric is a usage error" 2 $?
contains "the unknown metric is named" "$tmp/err" "unknown metric 'bleu'"
"$bin" score squad_v2 --dataset a >"$tmp/out" 2>"$tmp/err"; check "score without --predictions is a usage error" 2 $?
"$bin" score squad_v2 --dataset a --predictions b --min-f1 0.2 >"$tmp/out" 2>"$tmp/err"; check "a quac option with squad_v2 is a usage error" 2 $?
"$bin" score quac --dataset a --predictions b --min-f1 abc >"$tmp/out" 2>"$tmp/err"; check "a non-numeric --min-f1 is a usage error" 2 $?

# --out (harness/outfile.h): a symbolic link is followed (its target replaced, the link kept), a FIFO or
# /dev/stdout (/dev/fd/N) is written in place, a regular file is replaced; the database and its sidecars are refused, also
# through a link. report writes a published run beside nothing else (no model needed).
o="$tmp/out-rule"; mkdir -p "$o"
GLAM_EVAL_PUBLISHED="$src/published" "$bin" import published --db "$o/p.db" --only gpt3-175b >/dev/null 2>&1
check "import a published run for the --out cases" 0 $?
echo old >"$o/target.md"; ln -s target.md "$o/link.md"
"$bin" report --db "$o/p.db" --against gpt3-175b --out "$o/link.md" >"$tmp/out" 2>"$tmp/err"
check "report --out through a symbolic link" 0 $?
n=$((n + 1)); if [ -L "$o/link.md" ] && grep -q '^# GLaM-style results' "$o/target.md"; then
    echo "ok $n - ... keeps the link and replaces the file it names"
else echo "not ok $n - report --out LINK replaced the link or left its target stale"; ls -l "$o" | sed 's/^/#   /'
    fails=$((fails + 1)); fi
mkfifo "$o/pipe"
cat "$o/pipe" >"$o/from-pipe" &
reader=$!
"$bin" report --db "$o/p.db" --against gpt3-175b --out "$o/pipe" >"$tmp/out" 2>"$tmp/err"
check "report --out to a FIFO" 0 $?
# the reader ends when the report closes the FIFO; a report that replaced it never opens it, so stop the reader
(sleep 5; kill $reader 2>/dev/null) &
watchdog=$!
wait $reader
kill $watchdog 2>/dev/null
n=$((n + 1)); if [ -p "$o/pipe" ] && grep -q '^# GLaM-style results' "$o/from-pipe"; then
    echo "ok $n - ... writes into the FIFO, which stays a FIFO"
else echo "not ok $n - report --out FIFO did not write into it or replaced it"; fails=$((fails + 1)); fi
echo header >"$o/log"
# /dev/fd/1 rather than /dev/stdout: both reach descriptor 1 through /proc, but a build without the rule, run as
# root, would rename a file over /dev/stdout itself (it cannot create a temporary in /proc)
"$bin" report --db "$o/p.db" --against gpt3-175b --out /dev/fd/1 >>"$o/log" 2>"$tmp/err"
check "report --out /dev/fd/1 (as /dev/stdout)" 0 $?
n=$((n + 1)); if [ "$(head -n 1 "$o/log")" = header ] && grep -q '^# GLaM-style results' "$o/log"; then
    echo "ok $n - ... writes to standard output as it is open (appended after the header)"
else echo "not ok $n - report --out /dev/fd/1 >>log lost the header or the report"; fails=$((fails + 1)); fi
ln -s p.db-wal "$o/wal-link"
"$bin" report --db "$o/p.db" --against gpt3-175b --out "$o/wal-link" >"$tmp/out" 2>"$tmp/err"
check "report --out through a link to the database's -wal is refused" 2 $?
n=$((n + 1)); if [ ! -e "$o/p.db-wal" ] && [ -L "$o/wal-link" ]; then echo "ok $n - ... and nothing is written"
else echo "not ok $n - a -wal file was written beside the database"; fails=$((fails + 1)); fi
echo old >"$o/score.json"; ln -s score.json "$o/score-link"
"$bin" score squad_v2 --dataset "$src/examples/squad_v2-mini.json" \
    --predictions "$src/examples/squad_v2-mini-predictions.json" --out "$o/score-link" >"$tmp/out" 2>"$tmp/err"
check "score --out through a symbolic link" 0 $?
n=$((n + 1)); if [ -L "$o/score-link" ] && grep -q '"total": 10,' "$o/score.json"; then
    echo "ok $n - ... keeps the link and writes the file it names"
else echo "not ok $n - score --out LINK"; fails=$((fails + 1)); fi
printf 'some text\n' >"$o/corpus.txt"
"$bin" contamination scan --index "$o/none.idx" --out "$o/pipe" --db "$o/c.db" "$o/corpus.txt" >"$tmp/out" 2>"$tmp/err"
check "contamination scan --out FIFO --db is a usage error (the part is read back)" 2 $?
contains "... saying why" "$tmp/err" "not a regular file"

# model commands on the real stories260K model (skipped without ../shared)
gguf="${GLAM_EVAL_SHARED:-../shared}/models/stories260K/stories260K.gguf"
if [ -f "$gguf" ]; then
    "$bin" inspect "$gguf" >"$tmp/out" 2>&1; check "inspect a GGUF succeeds" 0 $?
    contains "inspect shows the shape" "$tmp/out" "llama, 5 layers (0 MoE), hidden 64, FFN 172, 8 heads (4 kv) x 8"
    "$bin" inspect --json "$gguf" >"$tmp/out" 2>&1; check "inspect --json succeeds" 0 $?
    contains "inspect --json counts parameters" "$tmp/out" '"params_total": 292800'
    "$bin" tokenize --model "$gguf" --bos --text "Once upon a time" >"$tmp/out" 2>&1; check "tokenize succeeds" 0 $?
    contains "tokenize prints BOS and the ids" "$tmp/out" "^1 403 407 261 378$"
    "$bin" tokenize --model "$gguf" --decode "403 407 261 378" >"$tmp/out" 2>&1; check "tokenize --decode succeeds" 0 $?
    contains "decode gives the text back" "$tmp/out" "^Once upon a time$"
    "$bin" tokenize --model "$gguf" --decode "403 99999999999999999999" >"$tmp/out" 2>&1; check "an overflowing id is a usage error" 2 $?
    contains "the overflowing id is named as typed" "$tmp/out" "token id 99999999999999999999 is out of range"
    "$bin" loglik --model "$gguf" --context "Once upon a time, there was a little girl named" --continuation " Lily" >"$tmp/out" 2>&1
    check "loglik succeeds" 0 $?
    contains "loglik prints one greedy token" "$tmp/out" '"n_tokens": 1, "is_greedy": true'
    "$bin" loglik --model "$gguf" --context "Lily saw a" --continuation " big dog" --per-token >"$tmp/out" 2>&1
    check "loglik --per-token succeeds" 0 $?
    contains "loglik --per-token prints three token log-probs" "$tmp/out" '"token_logprobs": \[-[0-9.]*, -[0-9.]*, -[0-9.]*\]'
    printf '{"context": "Lily saw a", "continuation": " dog"}\n{"context": "Lily saw a"}\n' >"$tmp/req.jsonl"
    "$bin" loglik --model "$gguf" --requests "$tmp/req.jsonl" >"$tmp/out" 2>"$tmp/err"; check "loglik with a malformed line fails" 1 $?
    contains "the error names the file and line" "$tmp/err" "req.jsonl: line 2"
    "$bin" generate --model "$gguf" --prompt "Once upon a time" --max-tokens 30 --until "." >"$tmp/out" 2>&1
    check "generate succeeds" 0 $?
    contains "generate stops before the stop string" "$tmp/out" "^, there was a little girl named Lily$"
    "$bin" loglik --model "$tmp/nothing.gguf" --continuation x >"$tmp/out" 2>"$tmp/err"; check "loglik on a missing model fails" 1 $?
    contains "the error names the missing model" "$tmp/err" "nothing.gguf"
else
    n=$((n + 1)); echo "ok $n - model commands # SKIP $gguf is absent"
fi

# What a command prints is its result: stdout closed or full is a failure naming it, never status 0, and a file the
# command opens never takes the closed descriptor (the table would be written into it).
"$bin" tasks >&- 2>"$tmp/err"; check "tasks with stdout closed fails" 1 $?
contains "... saying the write failed" "$tmp/err" "glam-eval tasks: writing to standard output failed"
if [ -w /dev/full ]; then "$bin" tasks >/dev/full 2>"$tmp/err"; check "tasks to a full device fails" 1 $?
else n=$((n + 1)); echo "ok $n # SKIP /dev/full is absent"; fi
"$bin" tasks >/dev/null 2>&1; check "tasks to /dev/null succeeds" 0 $?

echo "1..$n"
[ $fails -eq 0 ]
