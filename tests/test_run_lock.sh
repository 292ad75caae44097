#!/usr/bin/env bash
# test_run_lock.sh — one process at a time per run (harness/run_lock.h): while a `glam-eval run` works on a run
# (fresh or resumed), a second `run --resume` of it fails at once naming the first one's pid, asks the model
# nothing and leaves the database byte for byte as it was; readers (report, db info) are not blocked; after the
# first is killed with SIGKILL the kernel has dropped its lock and a resume takes the run and completes it; a
# finished run leaves no lock file. The run is made to last exactly as long as the test needs by the fake endpoint
# (tests/endpoint_fake_server.py) holding generation requests until it is told to answer. Prints TAP; the whole
# test skips without python3, curl, sqlite3 or ../shared/data/triviaqa.
set -u
bin=${GLAM_EVAL_BIN:-./glam-eval}
src=${TEST_SRCDIR:-.}
shared=${GLAM_EVAL_SHARED:-../shared}
server="$src/tests/endpoint_fake_server.py"
data="$shared/data"
for c in python3 curl sqlite3 timeout; do
    command -v $c >/dev/null 2>&1 || { echo "1..0 # SKIP the $c command is not installed"; exit 0; }
done
[ -f "$data/triviaqa/validation.jsonl" ] || { echo "1..0 # SKIP $data/triviaqa is absent"; exit 0; }
tmp=$(mktemp -d) || exit 1
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

python3 "$server" --port 0 --port-file "$tmp/port" --log "$tmp/srv.log" --fault holdgen 2>"$tmp/srv.err" &
pids="$pids $!"
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$tmp/port")/v1"
db="$tmp/l.db"
opts="--model $url --tasks triviaqa --shots 0 --limit 4 --data-dir $data --db $db --concurrency 1 --batch-size 1"
held() { if [ -f "$tmp/srv.log" ]; then grep -c '"fault": "holdgen"' "$tmp/srv.log"; else echo 0; fi; }
# wait_held N: until the server has held more than N generation requests (a run is then inside its model call)
wait_held() { for _ in $(seq 600); do [ "$(held)" -gt "$1" ] && return 0; sleep 0.05; done; return 1; }
snapshot() { sqlite3 "$db" .dump; }
# second NAME: a resume of run 1 while another process holds it; checks it is refused at once, naming PID $1, with
# the server not asked and the database unchanged
second() {
    local before after t0 t1 lines rc
    before=$(snapshot)
    lines=$(wc -l <"$tmp/srv.log")
    t0=$(date +%s%N)
    timeout -k 2 20 "$bin" run $opts --resume 1 >/dev/null 2>"$tmp/$2.err" # (without the lock it would wait for the
    rc=$?                                                                # server as long as the first one)
    t1=$(date +%s%N)
    after=$(snapshot)
    [ $rc = 1 ] && grep -q "run 1 is being evaluated by another process (pid $1), which holds .*l.db.lock-run-1" \
        "$tmp/$2.err"
    ok $? "$3: a second resume is refused naming the holder's pid ($(head -c 300 "$tmp/$2.err"))"
    [ $(((t1 - t0) / 1000000)) -lt 3000 ] && [ "$(wc -l <"$tmp/srv.log")" = "$lines" ]
    ok $? "$3: at once ($(((t1 - t0) / 1000000)) ms), before asking the server anything"
    [ -n "$before" ] && [ "$before" = "$after" ]; ok $? "$3: and the database is unchanged"
}

# A fresh run holds its run as soon as the id exists.
h=$(held)
"$bin" run $opts >/dev/null 2>"$tmp/a.err" &
a=$!
pids="$pids $a"
wait_held "$h"; ok $? "a fresh run reaches the model and is held there"
[ "$(sqlite3 "$db" "SELECT id || ':' || status FROM runs")" = "1:running" ]; ok $? "its run 1 is stored, running"
second $a b "fresh run"
"$bin" report --db "$db" --run 1 >/dev/null 2>&1; ok $? "a report of the run is not blocked by the lock"
"$bin" db info --db "$db" >/dev/null 2>&1; ok $? "nor is db info"
before=$(snapshot)
"$bin" db delete-run 1 --yes --db "$db" >/dev/null 2>"$tmp/del.err"; rc=$?
[ $rc = 1 ] && grep -q "run 1 is being evaluated by another process (pid $a)" "$tmp/del.err"
ok $? "db delete-run of the run being evaluated is refused, naming the holder ($(head -c 200 "$tmp/del.err"))"
[ "$before" = "$(snapshot)" ]; ok $? "and the database is unchanged"
kill -9 $a; wait $a 2>/dev/null

# A resume holds it too; SIGKILL drops the lock (the lock file stays, with a dead pid, and is taken over).
h=$(held)
"$bin" run $opts --resume 1 >/dev/null 2>"$tmp/c.err" &
c=$!
pids="$pids $c"
wait_held "$h"; ok $? "after SIGKILL of the first, a resume takes the run and reaches the model"
grep -q "note: run 1 is marked running, but no process holds it" "$tmp/c.err"
ok $? "it notes that the run was left running by a process that is gone"
second $c d "resumed run"
kill -9 $c; wait $c 2>/dev/null
[ -f "$db.lock-run-1" ]; ok $? "a killed holder leaves its lock file"

# The server answers again; a third resume completes the run and removes the lock file.
curl -s -X POST --data "{\"fault\": \"\", \"log\": \"$tmp/srv.log\"}" "${url%/v1}/control" >/dev/null
"$bin" run $opts --resume 1 >"$tmp/e.out" 2>"$tmp/e.err"
ok $? "after SIGKILL of the second, a third resume completes"
[ "$(sqlite3 "$db" "SELECT status FROM runs WHERE id = 1")" = finished ] &&
    [ "$(sqlite3 "$db" "SELECT count(*) FROM requests q LEFT JOIN responses r ON r.request_id = q.id WHERE r.id IS NULL")" = 0 ]
ok $? "the run is finished with every request answered"
[ ! -e "$db.lock-run-1" ]; ok $? "and its lock file is gone"

# The lock file is beside the database's real path: through a symbolic link it is the same lock.
"$bin" run $opts >/dev/null 2>&1 && ln -s "$db" "$tmp/link.db"
curl -s -X POST --data "{\"fault\": \"holdgen\", \"log\": \"$tmp/srv.log\"}" "${url%/v1}/control" >/dev/null
sqlite3 "$db" "UPDATE runs SET status = 'interrupted' WHERE id = 2; DELETE FROM metrics; DELETE FROM scores;
    UPDATE task_runs SET status = 'running', finished_at = NULL WHERE run_id = 2;
    DELETE FROM responses WHERE request_id IN (SELECT q.id FROM requests q JOIN task_runs t ON t.id = q.task_run_id
        WHERE t.run_id = 2); DELETE FROM response_cache"
h=$(held)
"$bin" run $opts --resume 2 >/dev/null 2>&1 &
f=$!
pids="$pids $f"
wait_held "$h"
timeout -k 2 20 "$bin" run ${opts/--db $db/--db $tmp/link.db} --resume 2 >/dev/null 2>"$tmp/g.err"; rc=$?
[ $rc = 1 ] && grep -q "run 2 is being evaluated by another process (pid $f)" "$tmp/g.err"
ok $? "the same run through a symbolic link to the database is refused too"
kill -9 $f; wait $f 2>/dev/null
# Once its process is gone the run can be deleted: everything it produced goes, the model's cache stays, and the
# lock file the killed holder left is removed with the lock.
"$bin" db delete-run 2 --db "$db" >"$tmp/dry.out" 2>"$tmp/dry.err"; rc=$?
[ $rc = 1 ] && grep -q "^run 2 would be deleted: 1 task run, 4 documents, 4 requests" "$tmp/dry.out" &&
    grep -q "nothing was deleted: add --yes to delete run 2" "$tmp/dry.err"
ok $? "without --yes delete-run says what it would delete and exits 1 ($(cat "$tmp/dry.out" "$tmp/dry.err" | head -c 300))"
[ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE id = 2")" = 1 ]; ok $? "and deletes nothing"
cache=$(sqlite3 "$db" "SELECT count(*) FROM response_cache")
"$bin" db delete-run 2 --yes --db "$db" >"$tmp/del.out" 2>"$tmp/del.err"
ok $? "with --yes it deletes run 2 ($(head -c 200 "$tmp/del.out" "$tmp/del.err"))"
[ "$(sqlite3 "$db" "SELECT (SELECT count(*) FROM runs WHERE id = 2) + (SELECT count(*) FROM task_runs WHERE run_id = 2)
    + (SELECT count(*) FROM requests q LEFT JOIN task_runs t ON t.id = q.task_run_id WHERE t.id IS NULL)
    + (SELECT count(*) FROM responses r LEFT JOIN requests q ON q.id = r.request_id WHERE q.id IS NULL)")" = 0 ] &&
    [ "$(sqlite3 "$db" "SELECT status FROM runs WHERE id = 1")" = finished ] &&
    [ "$(sqlite3 "$db" "SELECT count(*) FROM response_cache")" = "$cache" ]
ok $? "its rows are gone, with no orphan, run 1 and the response cache are untouched"
[ ! -e "$db.lock-run-2" ]; ok $? "and the killed holder's lock file is gone"
"$bin" db delete-run 2 --yes --db "$db" >/dev/null 2>"$tmp/del.err"; rc=$?
[ $rc = 1 ] && grep -q "there is no run 2" "$tmp/del.err"; ok $? "deleting it again says there is no run 2"

echo "1..$n"
[ $fails -eq 0 ]
