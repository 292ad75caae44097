#!/usr/bin/env bash
# test_score_ids.sh — predictions exported from a `run` score the same through `glam-eval score`: the ids the run
# stores (documents.doc_id, for these id-less datasets the 1-based line number) are the ids `score` keys
# questions by. On the real stories260K model and the first questions of ../shared/data's nq_open and triviaqa:
#   1. a 0-shot run with --limit stores generations;
#   2. a copy of the data whose gold is that generation for odd lines (the question, hence the 0-shot prompt and
#      the greedy generation, is unchanged) is run again, so its stored EM is neither 0 nor 1;
#   3. its answers, exported with sqlite3 keyed by doc_id, scored by `score` against the lines the run evaluated,
#      give the EM the run stored; the same answers keyed by 0-based line numbers are an error naming id 0.
# Prints TAP; skips without ../shared, sqlite3 or python3.
set -u
bin=${GLAM_EVAL_BIN:-./glam-eval}
shared=${GLAM_EVAL_SHARED:-../shared}
model="$shared/models/stories260K/stories260K.gguf"
data="$shared/data"
if [ ! -f "$model" ] || [ ! -f "$data/nq_open/validation.jsonl" ] || [ ! -f "$data/triviaqa/validation.jsonl" ]; then
    echo "1..0 # SKIP ../shared (model or nq_open/triviaqa data) is absent"; exit 0
fi
command -v sqlite3 >/dev/null 2>&1 || { echo "1..0 # SKIP the sqlite3 command is not installed"; exit 0; }
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

limit=8
total=12
# The generated text of every evaluated document, keyed by doc_id.
answers_q="SELECT d.doc_id, r.text FROM documents d
  JOIN requests q ON q.task_run_id = d.task_run_id AND q.doc_index = d.doc_index
  JOIN responses r ON r.request_id = q.id ORDER BY d.doc_index"

# check TASK SPLIT METRIC: the steps above for one task; METRIC is the `score` metric.
check() {
    local task=$1 split=$2 metric=$3 d1="$tmp/$1-a" d2="$tmp/$1-b"
    mkdir -p "$d1/$task" "$d2/$task"
    head -n "$total" "$data/$task/$split.jsonl" >"$d1/$task/$split.jsonl"
    "$bin" run --model "$model" --tasks "$task" --shots 0 --limit "$limit" --db "$tmp/$task-a.db" --data-dir "$d1" \
        >/dev/null 2>"$tmp/$task-a.err"
    ok $? "$task: first run ($limit of $total questions)"
    sqlite3 -json "$tmp/$task-a.db" "$answers_q" >"$tmp/$task-a.json"
    python3 - "$task" "$d1/$task/$split.jsonl" "$tmp/$task-a.json" >"$d2/$task/$split.jsonl" <<'PY'
import json, sys
task, path, answers = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
gen = {a["doc_id"]: a["text"] for a in answers}
for line_no, line in enumerate(open(path, encoding="utf-8"), start=1):
    r = json.loads(line)
    text = gen.get(str(line_no))
    if text is not None and line_no % 2 == 1 and text.strip():
        if task == "triviaqa":
            r["answer"].update(aliases=[text], normalized_aliases=[text], value=text)
        else:
            r["answer"] = [text]
    print(json.dumps(r, ensure_ascii=False))
PY
    "$bin" run --model "$model" --tasks "$task" --shots 0 --limit "$limit" --db "$tmp/$task-b.db" --data-dir "$d2" \
        >/dev/null 2>"$tmp/$task-b.err"
    ok $? "$task: second run, odd lines' gold = their generation"
    sqlite3 -json "$tmp/$task-b.db" "$answers_q" >"$tmp/$task-b.json"
    cmp -s "$tmp/$task-a.json" "$tmp/$task-b.json"; ok $? "$task: the same prompts gave the same generations"
    local stored
    stored=$(sqlite3 "$tmp/$task-b.db" "SELECT printf('%.6f', value) FROM metrics WHERE metric = 'em'")
    [ -n "$stored" ] && [ "$stored" != 0.000000 ] && [ "$stored" != 1.000000 ]
    ok $? "$task: the run stored an EM strictly between 0 and 1 ($stored)"

    # The lines the run evaluated: --limit takes the first documents.
    head -n "$limit" "$d2/$task/$split.jsonl" >"$tmp/$task-subset.jsonl"
    local got
    if [ "$metric" = em ]; then
        sqlite3 "$tmp/$task-b.db" "SELECT json_object('id', doc_id, 'prediction', text) FROM ($answers_q)" \
            >"$tmp/$task-p.jsonl"
        sqlite3 "$tmp/$task-b.db" \
            "SELECT json_object('id', CAST(doc_id AS INTEGER) - 1, 'prediction', text) FROM ($answers_q)" \
            >"$tmp/$task-p0.jsonl"
        "$bin" score em --dataset "$tmp/$task-subset.jsonl" --predictions "$tmp/$task-p.jsonl" >"$tmp/$task-score.json"
        ok $? "$task: score em on the exported predictions"
        got=$(python3 -c 'import json, sys; print("%.6f" % json.load(open(sys.argv[1]))["score"])' "$tmp/$task-score.json" 2>/dev/null)
        "$bin" score em --dataset "$d2/$task/$split.jsonl" --predictions "$tmp/$task-p.jsonl" >"$tmp/$task-full.json"
        python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (d["n"] == int(sys.argv[2]) and d["missing"] == int(sys.argv[2]) - int(sys.argv[3])))' \
            "$tmp/$task-full.json" "$total" "$limit"
        ok $? "$task: against the whole file the --limit subset's answers are found and the rest missing"
    else
        sqlite3 "$tmp/$task-b.db" "SELECT json_group_object(doc_id, text) FROM ($answers_q)" >"$tmp/$task-p.jsonl"
        sqlite3 "$tmp/$task-b.db" \
            "SELECT json_group_object(CAST(CAST(doc_id AS INTEGER) - 1 AS TEXT), text) FROM ($answers_q)" \
            >"$tmp/$task-p0.jsonl"
        "$bin" score "$metric" --dataset "$tmp/$task-subset.jsonl" --predictions "$tmp/$task-p.jsonl" \
            >"$tmp/$task-score.json"
        ok $? "$task: score $metric on the exported predictions"
        got=$(python3 -c 'import json, sys; print("%.6f" % (json.load(open(sys.argv[1]))["exact_match"] / 100))' \
            "$tmp/$task-score.json" 2>/dev/null)
    fi
    [ "$got" = "$stored" ]; ok $? "$task: score gives the EM the run stored ($got, stored $stored)"
    "$bin" score "$metric" --dataset "$tmp/$task-subset.jsonl" --predictions "$tmp/$task-p0.jsonl" \
        >/dev/null 2>"$tmp/$task-p0.err"
    # em names the line too; triviaqa's predictions are one JSON object (no lines)
    [ $? = 1 ] && grep -Eq "$task-p0.jsonl: (line 1: prediction for unknown id|prediction for unknown question) \"0\"" \
        "$tmp/$task-p0.err"
    ok $? "$task: the same answers keyed by 0-based line numbers are an error naming id 0 ($(cat "$tmp/$task-p0.err"))"
}

check nq_open validation em
check triviaqa validation triviaqa

echo "1..$n"
[ "$fails" = 0 ]
