#!/usr/bin/env bash
# test_report.sh — `glam-eval report` and `glam-eval import published` end to end: tiny runs on the real stories260K
# model and on an `init` MoE checkpoint, reported in every format beside the published GPT-3 numbers; the HTML is
# one well-formed self-contained file (and opens in headless Chromium when /usr/bin/chromium is installed: a
# screenshot is taken); published runs refuse to be resumed or deleted, and merge copies them once into its output. Prints TAP; skips without ../shared.
set -u
bin=${GLAM_EVAL_BIN:-./glam-eval}
shared=${GLAM_EVAL_SHARED:-../shared}
srcdir=${TEST_SRCDIR:-.}
model="$shared/models/stories260K/stories260K.gguf"
data="$shared/data"
if [ ! -f "$model" ] || [ ! -d "$data" ]; then echo "1..0 # SKIP ../shared (model or data) is absent"; exit 0; fi
command -v sqlite3 >/dev/null 2>&1 || { echo "1..0 # SKIP the sqlite3 command is not installed"; exit 0; }
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
db="$tmp/r.db"
tasks=arc_easy,boolq,copa,triviaqa,squad_v2,gsm8k

"$bin" run --model "$model" --tasks "$tasks" --shots 0,few --limit 5 --max-length 512 --db "$db" --data-dir "$data" \
    >"$tmp/run1.out" 2>"$tmp/run1.err"
ok $? "run on stories260K (6 tasks, zero- and few-shot, 5 documents)"
"$bin" init --preset 0.1B/64E --scale 0.05 --out "$tmp/moe" >/dev/null 2>&1
"$bin" run --model "$tmp/moe" --tasks "$tasks" --shots 0,few --limit 5 --db "$db" --data-dir "$data" \
    >"$tmp/run2.out" 2>"$tmp/run2.err"
ok $? "run on an init 0.1B/64E checkpoint (scale 0.05)"
"$bin" import published --data-dir "$srcdir/published" --db "$db" >"$tmp/import.out" 2>&1
ok $? "import published"
grep -q "^gpt3-175b: imported" "$tmp/import.out"; ok $? "import names each published run"
"$bin" import published --data-dir "$srcdir/published" --db "$db" 2>&1 | grep -q "already imported"
ok $? "importing again changes nothing"
# without --data-dir: the installed copy, else (a build never installed: the README's quick start, CI) the source tree's
env -u GLAM_EVAL_PUBLISHED "$bin" import published --list >"$tmp/list.out" 2>&1
grep -q "^glam-64b64e" "$tmp/list.out"; ok $? "import published finds its data without --data-dir"

for fmt in md csv tex json html; do
    "$bin" report --db "$db" --run 1 --run 2 --against gpt3-175b --format $fmt --out "$tmp/report.$fmt" 2>"$tmp/$fmt.err"
    ok $? "report --format $fmt"
done
grep -q "^| TriviaQA | em |" "$tmp/report.md" && grep -q "INCOMPLETE (3 of 21)" "$tmp/report.md"
ok $? "md: GLaM's rows; a run's Avg NLU over 3 of 21 tasks (ARC-e, BoolQ, COPA) is marked INCOMPLETE"
grep -q "^| GSM8K | em |" "$tmp/report.md" && [ "$(grep -n '^| GSM8K' "$tmp/report.md" | cut -d: -f1)" -gt \
    "$(grep -n 'Avg (all 30)' "$tmp/report.md" | head -1 | cut -d: -f1)" ]
ok $? "md: GSM8K comes after the averages"
grep -qF "| stories260K.gguf [--max-length 512] (run 1)<br>few-shot |" "$tmp/report.md" && grep -q "(k=16)" "$tmp/report.md"
ok $? "md: a few-shot column per run, cells with GLaM's K (ARC-e 16)"
grep -q "| 1 | 293K | 260K | 0.00052" "$tmp/report.md"
ok $? "md: the models table writes every size in one form (293K, 260K parameters, not 292800)"
v=$(sqlite3 "$db" "SELECT printf('%.2f', 100 * m.value) FROM metrics m JOIN task_runs t ON t.id = m.task_run_id
    WHERE t.run_id = 1 AND t.task = 'boolq' AND t.n_shots = 0 AND m.metric = 'acc'")
grep "^| BoolQ |" "$tmp/report.md" | grep -q "| $v ± "
ok $? "md: BoolQ zero-shot of run 1 is the stored metric ($v)"
[ "$(grep -c ',run1:zero-shot\|^run1:zero-shot,' "$tmp/report.csv")" -ge 6 ]
ok $? "csv: one line per cell and average"
python3 "$srcdir/tests/report_check.py" json "$tmp/report.json"; ok $? "json: lm-evaluation-harness layout"
# a paper states no example counts: its cells leave n and n_truncated empty (csv) or null (json), never 0
python3 - "$tmp/report.csv" "$tmp/report.json" <<'PY'; ok $? "csv, json: a published cell's n and n_truncated are empty / null, a run's are counts"
import csv, json, sys
cells = [r for r in csv.DictReader(open(sys.argv[1])) if r["metric"] != "avg"]
pub = [r for r in cells if r["published"] == "1"]
own = [r for r in cells if r["published"] == "0"]
assert pub and own
assert all(r["n"] == "" and r["n_truncated"] == "" for r in pub), pub[0]
assert all(r["n"] == "5" and r["n_truncated"].isdigit() for r in own), own[0]
cols = json.load(open(sys.argv[2]))["glam_eval"]["columns"]
assert all(c["n"] is None and c["n_truncated"] is None for col in cols if col["published"] for c in col["cells"])
assert all(c["n"] == 5 and isinstance(c["n_truncated"], int) for col in cols if not col["published"] for c in col["cells"])
PY
python3 "$srcdir/tests/report_check.py" html "$tmp/report.html"; ok $? "html: well formed, self-contained, 3 charts"
grep -q '\\begin{tabular}' "$tmp/report.tex" && grep -q '\\bottomrule' "$tmp/report.tex"; ok $? "tex: a tabular"

# the report module's averages are run's averages (one implementation)
want=$(grep "^Avg NLU (0-shot)" "$tmp/run1.out" | awk '{printf "%.2f", 100 * $4}')
grep "^| \*\*Avg NLU\*\* |" "$tmp/report.md" | grep -q "| $want INCOMPLETE"
ok $? "report's Avg NLU equals run's ($want)"

# The cell marks count scored documents only, and say when documents failed or used fewer examples than K.
# ARC-e with a 6-token window: 9 of 10 documents cannot be answered (their continuation does not fit), 1 is scored
# with a cut prompt; the failed ones had cut prompts too, which must not count ("(5 cut)" over n = 1 before).
"$bin" run --model "$model" --tasks arc_easy --shots 0 --limit 10 --seed 1 --max-length 6 --db "$tmp/cut.db" \
    --data-dir "$data" >/dev/null 2>&1
"$bin" report --db "$tmp/cut.db" --out "$tmp/cut.md" 2>/dev/null
"$bin" report --db "$tmp/cut.db" --format csv --out "$tmp/cut.csv" 2>/dev/null
"$bin" report --db "$tmp/cut.db" --format json --out "$tmp/cut.json" 2>/dev/null
want_cut=$(sqlite3 "$tmp/cut.db" "SELECT count(DISTINCT q.doc_index) FROM requests q JOIN responses s ON s.request_id = q.id
    WHERE s.truncated = 1 AND EXISTS (SELECT 1 FROM scores c WHERE c.task_run_id = q.task_run_id AND c.doc_index = q.doc_index)")
want_failed=$(sqlite3 "$tmp/cut.db" "SELECT count(DISTINCT q.doc_index) FROM requests q JOIN responses s ON s.request_id = q.id
    WHERE s.error IS NOT NULL")
python3 - "$tmp/cut.csv" "$tmp/cut.json" "$want_cut" "$want_failed" <<'PY'
import csv, json, sys
want_cut, want_failed = int(sys.argv[3]), int(sys.argv[4])
row = [r for r in csv.DictReader(open(sys.argv[1])) if r["task"] == "arc_easy"][0]
assert int(row["n"]) + want_failed == 10 and want_failed > 0, row
assert int(row["n_truncated"]) == want_cut <= int(row["n"]), row
assert int(row["n_failed"]) == want_failed, row
cell = json.load(open(sys.argv[2]))["glam_eval"]["columns"][0]["cells"][0]
assert (cell["n_truncated"], cell["n_failed"], cell["n_documents"]) == (want_cut, want_failed, 10), cell
PY
ok $? "cut counts scored documents only ($want_cut of n, not every document with a cut prompt); csv and json carry n_failed ($want_failed)"
grep "^| ARC-e |" "$tmp/cut.md" | grep -q "| 0.00 ($want_failed failed) ($want_cut cut) |"
ok $? "md: a cell over 1 of 10 documents says how many failed"
# WiC one-shot on stories260K's own 128-token window: no example fits, every prompt drops its one shot
"$bin" run --model "$model" --tasks wic --shots 0,1 --limit 5 --seed 1 --db "$tmp/shots.db" --data-dir "$data" \
    >/dev/null 2>"$tmp/shots.err"
dropped=$(sed -n 's/.*wic 1-shot:.* \([0-9]*\) prompts dropped shots.*/\1/p' "$tmp/shots.err")
"$bin" report --db "$tmp/shots.db" --out "$tmp/shots.md" 2>/dev/null
"$bin" report --db "$tmp/shots.db" --format csv --out "$tmp/shots.csv" 2>/dev/null
"$bin" report --db "$tmp/shots.db" --format html --out "$tmp/shots.html" 2>/dev/null
"$bin" report --db "$tmp/shots.db" --format tex --out "$tmp/shots.tex" 2>/dev/null
[ "$dropped" = 5 ] && grep "^| WiC |" "$tmp/shots.md" | grep -q "| [0-9.]* ± [0-9.]* (5 with fewer shots)[^|]* |$" &&
    ! grep "^| WiC |" "$tmp/shots.md" | cut -d'|' -f5 | grep -q "fewer shots" &&
    [ "$(awk -F, '$7 == "WiC" {print $1 ":" $20}' "$tmp/shots.csv" | paste -sd' ' -)" = "run1:zero-shot:0 run1:one-shot:5" ] &&
    grep -q "(5 with fewer shots)" "$tmp/shots.html" && grep -q "(5 with fewer shots)" "$tmp/shots.tex"
ok $? "a one-shot cell whose $dropped prompts dropped their example is marked in md, tex and html; csv n_fewer_shots"

if [ -x /usr/bin/chromium ]; then
    timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --screenshot="$tmp/report.png" \
        --window-size=1400,1600 "file://$tmp/report.html" >"$tmp/chromium.log" 2>&1
    [ -s "$tmp/report.png" ] && ! grep -qi "uncaught\|ERR_FILE_NOT_FOUND\|net::ERR" "$tmp/chromium.log"
    ok $? "headless Chromium opens the HTML and takes a screenshot without errors"
    [ -n "${GLAM_EVAL_KEEP_SCREENSHOT:-}" ] && cp "$tmp/report.png" "$GLAM_EVAL_KEEP_SCREENSHOT"
else
    n=$((n + 1)); echo "ok $n # SKIP /usr/bin/chromium is not installed (apt-get install chromium)"
fi

# errors name what is wrong; nothing half-written stays behind
"$bin" report --db "$db" --run 99 --out "$tmp/none.md" 2>"$tmp/e1"; rc=$?
[ $rc = 1 ] && grep -q "no run 99" "$tmp/e1" && [ ! -e "$tmp/none.md" ]; ok $? "report --run 99 fails naming the run"
"$bin" report --db "$db" --against glam-8b 2>"$tmp/e2"; [ $? = 1 ] && grep -q '"glam-8b"' "$tmp/e2"
ok $? "an unknown published label is named"
"$bin" report --db "$db" --format pdf 2>/dev/null; [ $? = 2 ]; ok $? "--format pdf is a usage error"

# --against alone keeps every run of the user's; a run named twice is one column
"$bin" report --db "$db" --against gpt3-175b --format csv --out "$tmp/ag.csv" 2>/dev/null
got=$(python3 -c 'import csv, sys; print(len({r["run_id"] for r in csv.DictReader(open(sys.argv[1]))}))' "$tmp/ag.csv")
[ "$got" = 3 ]; ok $? "--against without --run: runs 1 and 2 beside GPT-3 ($got runs)"
"$bin" report --db "$db" --run 1 --format csv --out "$tmp/once.csv" 2>/dev/null
"$bin" report --db "$db" --run 1 --run 1 --format csv --out "$tmp/twice.csv" 2>/dev/null
cmp -s "$tmp/once.csv" "$tmp/twice.csv"; ok $? "--run 1 --run 1 gives the report of --run 1"
"$bin" report --db "$db" --run 1 --run 2 --against gpt3-175b --against glam-64b64e --format csv --out "$tmp/rep.csv" \
    2>/dev/null
"$bin" report --db "$db" --run 1,2 --against gpt3-175b,glam-64b64e --format csv --out "$tmp/list.csv" 2>/dev/null
cmp -s "$tmp/rep.csv" "$tmp/list.csv" && [ "$(cut -d, -f1 "$tmp/list.csv" | cut -d: -f1 | sort -u | wc -l)" = 5 ]
ok $? "--run 1,2 --against gpt3-175b,glam-64b64e: comma lists as repeated options"
"$bin" report --db "$db" --against gpt3-175b, 2>"$tmp/e7"; [ $? = 2 ] && grep -q 'not a list of labels' "$tmp/e7"
ok $? "an empty item in --against's list is a usage error"

# run --shots 4: the 4-shot column has every task run at K = 4, WiC (GLaM K 4) included, which is also few-shot
"$bin" run --model "$model" --tasks wic,copa --shots 4 --limit 3 --max-length 512 --db "$tmp/k4.db" --data-dir "$data" \
    >/dev/null 2>&1
"$bin" report --db "$tmp/k4.db" --format csv --out "$tmp/k4.csv" 2>/dev/null
got=$(awk -F, '$1 == "run1:4-shot" && $6 == 4 {print $7}' "$tmp/k4.csv" | sort | paste -sd, -)
[ "$got" = "COPA,WiC" ] && grep -q "^run1:few-shot,.*,4,WiC," "$tmp/k4.csv"
ok $? "--shots 4: WiC in the 4-shot column ($got) and in the few-shot one"

# --out never overwrites the database, and a failed report leaves an existing file as it was
for side in -wal -shm -journal; do
    "$bin" report --db "$db" --format csv --out "$db$side" 2>"$tmp/e6s"; rc=$?
    [ $rc = 2 ] && grep -q "is the database being read .* or one of its files" "$tmp/e6s"
    ok $? "--out naming the database's $side file is refused (after a kill the WAL holds the committed rows)"
done
"$bin" report --db "$db" --format csv --out "$db" 2>"$tmp/e6"; rc=$?
[ $rc = 2 ] && grep -q "is the database being read" "$tmp/e6" && [ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE id = 1")" = 1 ]
ok $? "--out naming the database is refused; the database is intact"
echo keep >"$tmp/keep.md"
"$bin" report --db "$db" --run 99 --out "$tmp/keep.md" 2>/dev/null
[ "$(cat "$tmp/keep.md")" = keep ] && [ ! -e "$tmp/keep.md.tmp" ]; ok $? "a failed report leaves the --out file as it was"

"$bin" report --db "$db" --run 1 --clean >"$tmp/noaudit.out" 2>"$tmp/noaudit.err"
[ $? = 1 ] && [ ! -s "$tmp/noaudit.out" ] && grep -q "no contamination audit" "$tmp/noaudit.err"
ok $? "--clean without an audit fails before printing anything"

# a run that is not finished is named, in the file and on stderr
cp "$db" "$tmp/u.db"
sqlite3 "$tmp/u.db" "UPDATE runs SET status = 'interrupted' WHERE id = 2"
"$bin" report --db "$tmp/u.db" --run 1 --run 2 --out "$tmp/u.md" 2>"$tmp/u.err"
grep -q "run 2 is not finished (status interrupted)" "$tmp/u.err" && grep -q '^\*\*Note:\*\* run 2 is not finished' "$tmp/u.md" \
    && ! grep -q "run 1 is not" "$tmp/u.md"
ok $? "an interrupted run is named in the report and on stderr"
sqlite3 "$tmp/u.db" "UPDATE task_runs SET status = 'failed' WHERE run_id = 2 AND task = 'boolq' AND n_shots = 0"
"$bin" report --db "$tmp/u.db" --run 2 --out "$tmp/u2.md" 2>/dev/null
"$bin" report --db "$tmp/u.db" --run 2 --format csv --out "$tmp/u2.csv" 2>/dev/null
grep -q "INCOMPLETE (3 of 21, 1 partial)" "$tmp/u2.md" \
    && grep -q "^run2:zero-shot,2,0,.*,avg_nlu,avg,,.*,,,1,3,21," "$tmp/u2.csv"
ok $? "an average over a partial cell says so (md: 1 partial; csv: partial = 1)"

# Markdown: a '|' in a model's name is escaped, so every row has its table's cell count
cp -r "$tmp/moe" "$tmp/pi|pe"
"$bin" run --model "$tmp/pi|pe" --tasks copa --shots 0 --limit 2 --db "$tmp/pipe.db" --data-dir "$data" >/dev/null 2>&1
"$bin" report --db "$tmp/pipe.db" --out "$tmp/pipe.md" 2>/dev/null
python3 - "$tmp/pipe.md" <<'PY'
import re, sys
cells = lambda line: len(re.findall(r"(?<!\\)\|", line))
lines = open(sys.argv[1]).read().split("\n")
want = None
for line in lines:
    if not line.startswith("|"):
        want = None
        continue
    if want is None:
        want = cells(line)
    elif cells(line) != want:
        sys.exit("row with %d cells, table has %d: %s" % (cells(line), want, line))
assert "pi\\|pe" in open(sys.argv[1]).read()
PY
ok $? "md: a '|' in a model name is escaped (rows keep their cell count)"

# published runs are read-only
pub=$(sqlite3 "$db" "SELECT run_id FROM published_runs WHERE label = 'gpt3-175b'")
"$bin" run --model "$model" --tasks boolq --shots 0 --limit 2 --db "$db" --data-dir "$data" --resume "$pub" \
    >/dev/null 2>"$tmp/e3"; rc=$?
[ $rc != 0 ] && grep -qi "published\|read-only\|model" "$tmp/e3"; ok $? "run --resume of a published run is refused"
sqlite3 "$db" "DELETE FROM runs WHERE id = $pub" 2>"$tmp/e4"; [ $? != 0 ] && grep -q "cannot be deleted" "$tmp/e4"
ok $? "a published run cannot be deleted"
sqlite3 "$db" "UPDATE models SET n_params = 1 WHERE id = (SELECT model_id FROM runs WHERE id = $pub)" 2>"$tmp/e7"
[ $? != 0 ] && grep -q "model of a published reference run is read-only" "$tmp/e7" \
    && [ "$(sqlite3 "$db" "SELECT n_params FROM models WHERE id = (SELECT model_id FROM runs WHERE id = $pub)")" != 1 ]
ok $? "a published run's model row cannot be changed"

# merge: a published run is no shard's result; it is copied once into OUT with every cell, and stays read-only there.
q_pub() { # the published runs of schema $1 ("" or "b."), every cell, values as stored (no text round trip)
    echo "SELECT p.label, p.source, p.data_file, p.data_hash, p.imported_at, m.identity_hash, m.n_params, r.args,
        r.status, s.task, s.metric, s.setting, s.n_shots, s.split, s.value, s.source_table FROM ${1-}published_scores s
        JOIN ${1-}published_runs p USING (run_id) JOIN ${1-}runs r ON r.id = p.run_id JOIN ${1-}models m ON m.id = r.model_id"
}
same_pub() { # databases $1 and $2 hold the same published runs, cell for cell
    [ "$(sqlite3 "$1" "ATTACH '$2' AS b; SELECT (SELECT count(*) FROM ($(q_pub) EXCEPT $(q_pub b.))) +
        (SELECT count(*) FROM ($(q_pub b.) EXCEPT $(q_pub))) + (SELECT count(*) FROM published_scores) -
        (SELECT count(*) FROM b.published_scores)" 2>&1)" = 0 ]
}
"$bin" merge "$tmp/m.db" "$db" >/dev/null 2>"$tmp/e5"
ok $? "merge takes a database holding published runs"
grep -q "<- published reference run 'gpt3-175b' (held by 1 input)" "$tmp/e5"; ok $? "merge names the published runs it copies"
same_pub "$db" "$tmp/m.db"; ok $? "the merged database holds the published runs, cell for cell"
"$bin" report --db "$db" --run 1 --run 2 --against gpt3-175b | grep -v "^Database:" >"$tmp/rep_a.md"
"$bin" report --db "$tmp/m.db" --run 1 --run 2 --against gpt3-175b | grep -v "^Database:" >"$tmp/rep_b.md"
[ -s "$tmp/rep_a.md" ] && cmp -s "$tmp/rep_a.md" "$tmp/rep_b.md"; ok $? "the report on the merged database is the same"
mpub=$(sqlite3 "$tmp/m.db" "SELECT run_id FROM published_runs WHERE label = 'gpt3-175b'")
sqlite3 "$tmp/m.db" "DELETE FROM runs WHERE id = $mpub" 2>"$tmp/e4"; [ $? != 0 ] && grep -q "cannot be deleted" "$tmp/e4"
ok $? "the copied published run is read-only too"
sh_opts="--model $model --tasks copa --shots 0 --limit 6 --max-length 512 --data-dir $data"
"$bin" run $sh_opts --shard 0/2 --db "$tmp/sh0.db" >/dev/null 2>&1 && "$bin" run $sh_opts --shard 1/2 --db "$tmp/sh1.db" \
    >/dev/null 2>&1 && "$bin" import published --data-dir "$srcdir/published" --db "$tmp/sh0.db" >/dev/null 2>&1 &&
    cp "$tmp/sh1.db" "$tmp/sh1x.db" && "$bin" import published --data-dir "$srcdir/published" --db "$tmp/sh1.db" >/dev/null 2>&1
ok $? "two shards, the published runs imported into both (and into one only)"
"$bin" merge "$tmp/ms.db" "$tmp/sh0.db" "$tmp/sh1.db" >/dev/null 2>"$tmp/e6" &&
    [ "$(sqlite3 "$tmp/ms.db" "SELECT count(*) FROM runs; SELECT group_concat(label) FROM (SELECT label FROM published_runs ORDER BY 1)")" = "3
glam-64b64e,gpt3-175b" ] && grep -q "<- 2 shards" "$tmp/e6" && grep -q "'gpt3-175b' (held by 2 inputs)" "$tmp/e6" && same_pub "$tmp/sh0.db" "$tmp/ms.db"
ok $? "shards that both hold the same published runs: one merged run and each published run once"
"$bin" merge "$tmp/ms1.db" "$tmp/sh0.db" "$tmp/sh1x.db" >/dev/null 2>&1 && same_pub "$tmp/sh0.db" "$tmp/ms1.db"
ok $? "a published run held by one shard only is copied too"
cp -r "$srcdir/published" "$tmp/pubx" && chmod -R u+w "$tmp/pubx" &&
    sed -i 's/^\(gpt3-175b\tzero\t0\tboolq\tacc\tdev\t\)[0-9.]*/\150.0/' "$tmp/pubx/scores.tsv" &&
    ! cmp -s "$srcdir/published/scores.tsv" "$tmp/pubx/scores.tsv" &&
    "$bin" import published --only gpt3-175b --data-dir "$tmp/pubx" --db "$tmp/sh1x.db" >/dev/null 2>&1
ok $? "shard 1 gets gpt3-175b from changed data files"
"$bin" merge "$tmp/ms2.db" "$tmp/sh0.db" "$tmp/sh1x.db" >/dev/null 2>"$tmp/e7"; rc=$?
[ $rc = 1 ] && grep -q "sh1x.db: run 2, the published reference run 'gpt3-175b', was imported from other data files than run 2 of the same label in .*sh0.db (field data_hash" "$tmp/e7" && [ ! -e "$tmp/ms2.db" ]
ok $? "one label with different data in two inputs is refused naming both databases and the field"
cnt=$(sqlite3 "$db" "SELECT count(*) FROM published_scores WHERE run_id = $pub")
[ "$cnt" = 95 ]; ok $? "its 95 published cells are intact ($cnt)"

echo "1..$n"
[ $fails = 0 ]
