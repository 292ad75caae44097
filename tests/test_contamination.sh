#!/usr/bin/env bash
# test_contamination.sh — `glam-eval contamination` end to end: a corpus with benchmark examples planted whole,
# partially (N+2 words, case and punctuation changed, across line breaks), as near misses (N-1 words) and inside
# JSON strings with escapes; exactly the planted examples must be flagged (the expected set is computed by
# tests/contamination_helper.py with plain list matching, no hashing), with the same result for shards merged,
# gzip and zstd copies, and --gpt3. Then bad input, merge refusals, the Appendix D table, and (with ../shared)
# real benchmark data and clean/dirty scores of a real run. Prints TAP.
set -u
bin=${GLAM_EVAL_BIN:-./glam-eval}
shared=${GLAM_EVAL_SHARED:-../shared}
srcdir=${TEST_SRCDIR:-.}
helper="$srcdir/tests/contamination_helper.py"
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
h() { python3 "$helper" "$@"; }
ce() { "$bin" contamination "$@"; }

# --- the planted corpus ---------------------------------------------------------------------------------------
h fixture data
tasks=arc_easy,nq_open,lambada,boolq
ce index --tasks $tasks --data-dir data --out fx.idx --examples fx.ex >idx.out 2>idx.err
ok $? "index over the fixture tasks"
grep -q "^nq_open .* 13 " idx.out; ok $? "index reports N = 13 and the short examples per task"
h plant fx.ex p1 11
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' p1/expected.json)" -gt 10 ]
ok $? "the reference expects a dozen or more dirty examples"
mv p1/corpus corpus
ce scan --index fx.idx --db a.db corpus >scan.out 2>scan.err
ok $? "scan the planted corpus (text, JSONL, nested directory) into a.db"
grep -q '^scan 0/1, MiB: \([0-9]*\)/\1 (100%)' scan.err
ok $? "the scan reports its progress in MiB of the shard's files, ending at 100% (stderr not a terminal: plain lines)"
if command -v script >/dev/null 2>&1; then # on a terminal: a bar redrawn in place (ESC[K), but not for a shard
    script -qc "'$bin' contamination scan --index fx.idx --out tty1.part corpus" /dev/null >tty1.out 2>&1
    script -qc "'$bin' contamination scan --index fx.idx --shard 0/2 --out tty2.part corpus" /dev/null >tty2.out 2>&1
    grep -q $'\e\[K' tty1.out && ! grep -q $'\e\[K' tty2.out && grep -q '^scan 0/2, MiB: ' tty2.out
    ok $? "on a terminal the scan redraws a bar in place; a shard (--shard 0/2) prints plain lines instead"
else
    skip "script(1) is not installed: the terminal progress is not tested"
fi
h check a.db p1/expected.json fx.ex; ok $? "exactly the planted examples are dirty (whole, partial, case/punct, line breaks, JSON escapes; near misses clean)"
h witness a.db . ; ok $? "each plain-text witness offset points at the first word of its n-gram"
h dump a.db >a.flags

for k in 0 1 2; do ce scan --index fx.idx --shard $k/3 --out part$k corpus >/dev/null 2>&1 || echo "shard $k failed"; done
ce merge part2 part0 part1 --db b.db >merge.out 2>&1; ok $? "merge three shards (given in any order)"
h dump b.db >b.flags
cmp -s a.flags b.flags; ok $? "three shards merged give the unsharded flags and witnesses"
mkdir -p elsewhere && (cd elsewhere && "$bin" contamination merge ../part0 ../part1 ../part2 --db ../b2.db >/dev/null 2>&1)
ok $? "merge from another directory finds the index (its absolute path is in the parts)"

mkdir -p zc/sub
gzip -c corpus/a.txt >zc/a.txt.gz; zstd -q -c corpus/sub/b.txt >zc/sub/b.txt.zst
gzip -c corpus/c.jsonl >zc/c.jsonl.gz; zstd -q -c corpus/sub/d.txt >zc/sub/d.txt.zst
ce scan --index fx.idx --db c.db zc >/dev/null 2>c.err; ok $? "scan gzip and zstd copies"
grep -q '^scan 0/1, MiB: \([0-9]*\)/\1 (100%)' c.err; ok $? "progress over compressed files ends at 100% (of their bytes on disk)"
h dump a.db --strip >a.sflags; h dump c.db --strip >c.sflags
cmp -s a.sflags c.sflags; ok $? "compressed copies give the same flags, documents, offsets and n-grams"
cat corpus/a.txt corpus/a.txt | gzip -c >zc2.gz; gzip -c corpus/a.txt >m.gz; gzip -c corpus/a.txt >>m.gz
ce scan --index fx.idx --out m1 --format text zc2.gz >/dev/null 2>&1 && ce scan --index fx.idx --out m2 --format text m.gz >/dev/null 2>&1
[ "$(tail -n +3 m1)" = "$(tail -n +3 m2)" ]; ok $? "a multi-member gzip file reads as one stream"
cp m.gz mg.gz; printf 'trailing bytes, not a gzip member' >>mg.gz
ce scan --index fx.idx --out m3 --format text mg.gz >/dev/null 2>&1 && [ "$(tail -n +3 m2)" = "$(tail -n +3 m3)" ]
ok $? "bytes after the last gzip member are ignored (as gzip -d does)"
# a pipe reads like the file: the magic number is read from the stream, never seeked to
for f in zc/c.jsonl.gz zc/sub/b.txt.zst corpus/c.jsonl; do
    fmt=text; case $f in *.jsonl*) fmt=jsonl ;; esac
    ce scan --index fx.idx --format $fmt --out pf.part "$f" >/dev/null 2>&1
    cat "$f" | ce scan --index fx.idx --format $fmt --out pp.part /dev/stdin >/dev/null 2>pp.err
    [ $? = 0 ] && [ "$(grep -v '"path"\|"index_path"' pf.part)" = "$(grep -v '"path"\|"index_path"' pp.part)" ] \
        && grep -q '"example"' pp.part
    ok $? "$f through a pipe (/dev/stdin) gives the witnesses of the file"
done

ce index --tasks $tasks --data-dir data --gpt3 --out g.idx --examples g.ex >g.out 2>&1
ok $? "index --gpt3"
grep -Eq "^lambada +test +(8|9|1[0-3]) " g.out; ok $? "--gpt3 picks N in 8..13 per task"
mkdir -p p2; cp p1/segments.json p2/; h expect g.ex p2
ce scan --index g.idx --db g.db corpus >/dev/null 2>&1; ok $? "scan with the --gpt3 index"
h check g.db p2/expected.json g.ex; ok $? "--gpt3: exactly the examples with a per-task n-gram (or whole short example) planted"

# --- document boundaries and the JSONL field ----------------------------------------------------------------------
python3 - fx.ex <<'EOF' >split.txt
import json, sys
ex = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
e = next(e for e in ex if e["task"] == "lambada" and len(e["words"]) >= 20)
w = e["words"][:14]
print("zqfiller zqfiller " + " ".join(w[:7]) + "\n\n" + " ".join(w[7:]) + " zqfiller")
EOF
ce scan --index fx.idx --out sf.part split.txt >/dev/null 2>&1 && ce scan --index fx.idx --out sb.part --text-docs blank split.txt >/dev/null 2>&1
grep -q '"witnesses":1' sf.part && grep -q '"witnesses":0' sb.part && grep -q '"docs":2' sb.part
ok $? "--text-docs blank: a blank line ends a document, and no n-gram spans it (it does within one document)"
sed 's/"text":/"body":/' corpus/c.jsonl >body.jsonl
ce scan --index fx.idx --out t1.part corpus/c.jsonl >/dev/null 2>&1 && ce scan --index fx.idx --out t2.part --text-field body body.jsonl >/dev/null 2>&1
[ "$(grep -c '"example"' t1.part)" -gt 0 ] && [ "$(grep '"example"' t1.part)" = "$(grep '"example"' t2.part)" ]
ok $? "--text-field names the JSONL field holding the text"

# --- the report -------------------------------------------------------------------------------------------------
ce report --db a.db >rep.out 2>&1; ok $? "report prints the Appendix D table"
ndirty=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' p1/expected.json)
awk -v want="$ndirty" 'NR > 2 {d += $(NF-2); t += $(NF-1)} END {exit !(d == want && t == 140)}' rep.out
ok $? "its dirty counts add up to the planted examples and totals to the 140 examples"
grep -q "^ARC-e .*test" rep.out; ok $? "rows name GLaM's dataset and the split"

# --- bad input ----------------------------------------------------------------------------------------------------
mkdir bad
printf 'good words here\n' >bad/ok.txt
printf 'caf\xc3 bad \xff bytes\n' >bad/utf8.txt
: >bad/empty.txt
head -c 300 zc/c.jsonl.gz >bad/trunc.jsonl.gz
printf '{"text": "%s"}\n{"nope": 1}\nnot json\n{"text": 5}\n' "$(head -c 300 /dev/zero | tr '\0' a)" >bad/lines.jsonl
ce scan --index fx.idx --out bad.part --max-doc-bytes 200 bad >/dev/null 2>bad.err
ok $? "bad input does not stop the scan"
grep -q "bad/utf8.txt: invalid UTF-8 at byte offset 3" bad.err; ok $? "invalid UTF-8 is reported with file and offset"
grep -q "bad/empty.txt: empty file" bad.err; ok $? "an empty file is reported"
grep -q "bad/trunc.jsonl.gz: corrupt gzip data at decompressed byte offset" bad.err; ok $? "a truncated gzip file is reported with the offset"
grep -q "bad/lines.jsonl: line 1 at byte offset 0 is longer than --max-doc-bytes 200" bad.err; ok $? "an enormous line is reported and skipped"
grep -q 'line 2 (byte offset [0-9]*): field "text" is missing' bad.err && grep -q "line 3: not a JSON object" bad.err &&
    grep -q 'line 4 (byte offset [0-9]*): field "text" is not a string' bad.err
ok $? "a JSONL line without the field, not JSON, or with a non-string field is reported"
printf '{"text": "a lone \\ud800 high"}\n{"text": "a pair \\ud83d\\ude00 fine"}\n{"text": "a lone \\udc00 low"}\n' >sur.jsonl
ce scan --index fx.idx --out sur.part sur.jsonl >/dev/null 2>sur.err
grep -q "sur.jsonl: line 1: invalid UTF-8 or JSON escape at byte offset 17" sur.err \
    && grep -q "sur.jsonl: line 3: invalid" sur.err && ! grep -q "line 2" sur.err
ok $? "a lone surrogate escape is reported like an encoded surrogate; a pair is not"
grep -q '"path":"bad/ok.txt","bytes":16,"docs":1,"words":3' bad.part; ok $? "the good file is scanned"
ce scan --index fx.idx --out bad2.part --strict bad >/dev/null 2>bad2.err
[ $? = 1 ] && [ ! -e bad2.part ] && grep -q -- "--strict" bad2.err; ok $? "--strict stops at the first bad input and writes no part"
mkdir emptydir
ce scan --index fx.idx --out e.part emptydir >/dev/null 2>e.err
[ $? = 1 ] && grep -q "empty corpus" e.err; ok $? "an empty corpus is an error"
cp fx.idx broken.idx
printf 'X' | dd of=broken.idx bs=1 seek=200 conv=notrunc 2>/dev/null
ce scan --index broken.idx --out x.part corpus >/dev/null 2>x.err
[ $? = 1 ] && grep -q "broken.idx: checksum mismatch" x.err; ok $? "a damaged index is refused"
mkdir -p links/sub
cp bad/ok.txt links/a.txt
cp bad/ok.txt links/sub/b.txt
ln -s "$tmp/nonexistent" links/dangling.txt
ln -s .. links/sub/loop
ce scan --index fx.idx --out links.part links >/dev/null 2>links.err
[ $? = 0 ] && grep -q '"path":"links/sub/b.txt"' links.part && [ "$(grep -c '"path"' links.part)" = 2 ] \
    && grep -q "2 entries below the corpus directories left out .* links/dangling.txt" links.err
ok $? "a dangling link and a link loop below a directory are left out with a note; the files are scanned"
ce scan --index fx.idx --out nolink.part links/dangling.txt >/dev/null 2>nolink.err
[ $? = 1 ] && grep -q "links/dangling.txt: No such file or directory" nolink.err
ok $? "a missing path named on the command line is an error"
printf 'bad/ok.txt\n \n\t\n\n' >ws.lst
ce scan --index fx.idx --out ws.part @ws.lst >/dev/null 2>ws.err
[ $? = 0 ] && [ "$(grep -c '"path"' ws.part)" = 1 ]; ok $? "whitespace-only lines of a @LIST are blank lines"

# --- scan --db: checked before the scan; with --out, the part is kept --------------------------------------------
ce scan --index fx.idx --out both.part --db both.db corpus >/dev/null 2>both.err
[ $? = 0 ] && [ -s both.part ] && h dump both.db >both.flags && cmp -s a.flags both.flags
ok $? "--out with --db keeps the part file and merges the same audit"
ce scan --index fx.idx --db both.db --name twice corpus >/dev/null 2>&1
ce scan --index fx.idx --db both.db --name twice corpus >/dev/null 2>twice.err
[ $? = 1 ] && grep -q "an audit named 'twice' is already stored" twice.err && ! grep -q "shard 0/1:" twice.err
ok $? "a taken --name is refused before the scan"
# The default name (<index file>@<corpus hash>) hashes the files' decompressed sizes: for plain files those are
# their sizes, so a taken default name is refused before the scan too.
audits() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM contamination_indexes").fetchone()[0])' "$1"; }
ce scan --index fx.idx --db both.db corpus >/dev/null 2>again.err
[ $? = 1 ] && grep -q "an audit named 'fx.idx@[0-9a-f]\{12\}' is already stored: the default name of this index" again.err \
    && grep -q -- "pass --name NAME" again.err && ! grep -q "shard 0/1:" again.err && [ "$(audits both.db)" = 2 ]
ok $? "the same index over the same plain corpus again: its default name is refused before the scan"
ce scan --index fx.idx --db both.db --name second corpus >/dev/null 2>&1 && [ "$(audits both.db)" = 3 ]
ok $? "with --name the same scan is stored"
cp -r corpus grown && ce scan --index fx.idx --db grown.db grown >/dev/null 2>&1 && echo "more words" >>grown/a.txt &&
    ce scan --index fx.idx --db grown.db grown >/dev/null 2>&1 && [ "$(audits grown.db)" = 2 ]
ok $? "a corpus whose sizes changed gets another default name and is stored (no refusal up front)"
# A compressed file's size shows only when it is decompressed: then the refusal comes after the scan, and the
# scan is kept as a part file that merge stores under another name.
ce scan --index fx.idx --db c.db zc >/dev/null 2>zagain.err
rc=$?
kept=$(sed -n "s/.*the scan is kept in the part file \([^;]*\);.*/\1/p" zagain.err)
[ $rc = 1 ] && grep -q "an audit named 'fx.idx@[0-9a-f]\{12\}' is already stored" zagain.err && [ -n "$kept" ] \
    && [ -s "$kept" ] && grep -q "contamination merge $kept --db c.db --name NAME" zagain.err
ok $? "a compressed corpus's taken default name is refused after the scan, which is kept as a part file"
ce merge "$kept" --db c.db --name zc-again >/dev/null 2>&1 && [ "$(audits c.db)" = 2 ] && h dump c.db >c2.flags &&
    [ -s c2.flags ]
ok $? "merge stores the kept part under a new name"
echo "not a database" >notdb.db
ce scan --index fx.idx --db notdb.db corpus >/dev/null 2>notdb.err
[ $? = 1 ] && grep -q "not a SQLite database" notdb.err && ! grep -q "shard 0/1:" notdb.err \
    && [ "$(cat notdb.db)" = "not a database" ]
ok $? "a --db that is not a database is refused before the scan and left as it was"
ce scan --index fx.idx --out n.part --name x corpus >/dev/null 2>&1; [ $? = 2 ]; ok $? "--name without --db is a usage error"

# --- merge refusals -------------------------------------------------------------------------------------------
ce merge part0 part1 --db r1.db >/dev/null 2>r1.err
[ $? = 1 ] && grep -q "shard 2/3 is missing" r1.err && [ ! -e r1.db ]; ok $? "a missing shard is refused"
ce merge part0 part1 part1 part2 --db r2.db >/dev/null 2>r2.err
[ $? = 1 ] && grep -q "part1: shard 1/3 is given twice" r2.err; ok $? "a shard given twice is refused"
head -n 2 part2 >part2t
ce merge part0 part1 part2t --db r3.db >/dev/null 2>r3.err
[ $? = 1 ] && grep -q "part2t: truncated" r3.err; ok $? "a truncated part is refused"
# an edited witness: its offset past the file's end, its file another shard's, or its n-gram another example's
edit_part() { # edit_part IN OUT HOW: rewrites the witness lines of a part as HOW says
    python3 - "$@" <<'PY'
import json, sys
src, dst, how = sys.argv[1:4]
lines = [json.loads(l) for l in open(src)]
wit = [o for o in lines if "example" in o]
files = {o["file"]: o for o in lines if "path" in o}
lo, hi = min(wit, key=lambda o: o["example"]), max(wit, key=lambda o: o["example"])
if how == "offset":
    lo["offset"] = files[lo["file"]]["bytes"] + 10
elif how == "file":
    lo["file"] = lo["file"] + 1
elif how == "entry":
    lo["entry"], hi["entry"] = hi["entry"], lo["entry"]
open(dst, "w").write("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in lines))
PY
}
for how in offset file entry; do
    edit_part part1 part1e $how
    ce merge part0 part1e part2 --db e$how.db >/dev/null 2>e$how.err
    [ $? = 1 ] && grep -q "part1e: line [0-9]*: witness of example [0-9]* does not fit the part" e$how.err
    ok $? "merge refuses a part whose witness has another $how"
done
edit_part part1 part1s none
ce merge part0 part1s part2 --db esame.db >/dev/null 2>&1; ok $? "(the rewritten part, unedited, merges)"
ce merge part0 part1 part2 --db b.db >/dev/null 2>r4.err
[ $? = 1 ] && grep -q "already stored" r4.err; ok $? "merging the same audit twice under one name is refused"
[ "$(sqlite3 b.db 'SELECT count(*) FROM contamination_indexes' 2>/dev/null || python3 -c 'import sqlite3; print(sqlite3.connect("b.db").execute("SELECT count(*) FROM contamination_indexes").fetchone()[0])')" = 1 ]
ok $? "and leaves the database as it was"

# --- real data and a real run (../shared) ---------------------------------------------------------------------
model="$shared/models/stories260K/stories260K.gguf"
if [ -d "$shared/data/arc_easy" ] && [ -d "$shared/data/nq_open" ]; then
    ce index --tasks arc_easy,nq_open --limit 400 --data-dir "$shared/data" --out real.idx --examples real.ex >/dev/null 2>&1
    ok $? "index over real ARC-e and NQ examples"
    h plant real.ex p3 5
    if [ -d "$shared/corpus/gutenberg-fiction" ]; then
        # a slice of the real (clean) corpus as the haystack around the planted examples
        head -c 3000000 "$shared/corpus/gutenberg-fiction/children-00.jsonl" | head -n 1 >p3/corpus/gut.jsonl
    fi
    ce scan --index real.idx --db real.db p3/corpus >/dev/null 2>&1; ok $? "scan real examples planted in a corpus"
    h check real.db p3/expected.json real.ex; ok $? "exactly the planted real examples are dirty"
else
    for t in 1 2 3; do skip "../shared/data is absent"; done
fi
# docs/contamination.md states the size of the index of all tasks of ../shared/data: it must be what index reports.
if [ -d "$shared/data/arc_easy" ] && [ -f "$srcdir/docs/contamination.md" ]; then
    ce index --tasks all --skip-missing --data-dir "$shared/data" --out all.idx >all.out 2>/dev/null
    ok $? "index over every task of ../shared/data"
    read -r ex tasks grams <<EOF_COUNTS
$(sed -n '1s/^.*: \([0-9]*\) examples of \([0-9]*\) tasks*, \([0-9]*\) distinct n-grams.*/\1 \2 \3/p' all.out)
EOF_COUNTS
    comma() { python3 -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$1"; }
    doc=$(tr '\n' ' ' <"$srcdir/docs/contamination.md" | tr -s ' ')
    ok_doc=0
    for want in "covers the $tasks tasks whose evaluation split it holds" "with $(comma "$ex") examples" \
        "the index has $(comma "$grams") distinct 13-grams" "all $tasks tasks \`../shared/data\` holds ($(comma "$ex") examples,"; do
        case $doc in *"$want"*) ;; *) echo "# docs/contamination.md lacks: $want"; ok_doc=1 ;; esac
    done
    [ -n "$ex" ] && [ $ok_doc = 0 ]
    ok $? "docs/contamination.md gives the index's counts as index reports them ($ex examples, $tasks tasks, $grams n-grams)"
    rm -f all.idx
else
    for t in 1 2; do skip "../shared/data is absent"; done
fi
if [ -f "$model" ]; then
    "$bin" run --model "$model" --tasks arc_easy,nq_open,boolq --shots 0 --limit 40 --data-dir data --db a.db \
        >run.out 2>run.err
    ok $? "a real run on the fixture tasks into the audited database"
    run_id=$(python3 -c 'import sqlite3; print(sqlite3.connect("a.db").execute("SELECT max(id) FROM runs").fetchone()[0])')
    ce report --db a.db --run "$run_id" >clean.out 2>clean.err; ok $? "report --run prints clean and dirty scores"
    awk '$1 == "arc_easy" || $1 == "nq_open" || $1 == "boolq" {k++; if ($8 != 0 || $5 != $6 + $7) bad = 1} END {exit !(k == 3 && !bad)}' clean.out
    ok $? "every scored document has a verdict (content hashes join) and n = clean + dirty"
    want=$(python3 -c 'import sqlite3; c = sqlite3.connect("a.db"); print(c.execute("SELECT sum(dirty) FROM contamination_flags WHERE task = '"'"'arc_easy'"'"'").fetchone()[0])')
    awk -v w="$want" '$1 == "arc_easy" {exit !($7 == w)}' clean.out; ok $? "the dirty subset is the audit's dirty examples"
    "$bin" report --db a.db --run "$run_id" --clean >rclean.out 2>&1; ok $? "glam-eval report --run ID --clean"
    sed -n "/^## Run $run_id under contamination audit/,\$p" rclean.out | grep '^| ' | grep -v '^| task |' \
        | sed 's/^| //; s/ |$//; s/ | / /g' | awk '{$1 = $1; print}' >rclean.rows
    grep -v "^Run \|^task " clean.out | awk '{$1 = $1; print}' >clean.rows
    [ -s clean.rows ] && cmp -s clean.rows rclean.rows && grep -q '^|---|---:|' rclean.out
    ok $? "report --clean appends the same clean/dirty table after the main one, as a Markdown table"
    "$bin" report --db a.db --clean --format csv >/dev/null 2>&1; [ $? = 2 ]; ok $? "report --clean with csv is a usage error"
    "$bin" import published --db a.db >/dev/null 2>&1
    pub=$(python3 -c 'import sqlite3; print(sqlite3.connect("a.db").execute("SELECT min(run_id) FROM published_runs").fetchone()[0])')
    ce report --db a.db --run "$pub" >/dev/null 2>pub.err; rc=$?
    [ $rc = 1 ] && grep -q "run $pub is a published reference run: it has no per-example scores" pub.err
    ok $? "contamination report --run of a published run says so ($(cat pub.err))"
    ce merge part0 part1 part2 --db a.db --name after-run >/dev/null 2>&1; ok $? "merge the audit again under a new name"
    q="SELECT count(*), sum(dirty) FROM documents"
    python3 -c 'import sqlite3,sys; c = sqlite3.connect("a.db"); n, d = c.execute(sys.argv[1]).fetchone(); f = c.execute("SELECT sum(f.dirty) FROM contamination_flags f WHERE f.index_id = (SELECT max(id) FROM contamination_indexes) AND f.task IN (\"arc_easy\", \"nq_open\", \"boolq\")").fetchone()[0]; sys.exit(0 if n == 110 and d == f else 1)' "$q"
    ok $? "it marks documents.dirty of the stored run (110 documents, as many dirty as flagged)"
else
    for t in 1 2 3 4 5 6 7 8; do skip "../shared/models/stories260K is absent"; done
fi

# A set-level primary metric (MultiRC's F1a over answer options) is recomputed on the clean and dirty subsets, and
# its counts are the scored documents; tasks the audit does not cover are named once, not warned about one by one;
# a covered task indexed from other data (or fewer documents) is warned about, saying which.
if [ -f "$model" ] && [ -f "$shared/data/multirc/validation.jsonl" ]; then
    mkdir -p md/multirc md2/multirc
    head -n 30 "$shared/data/multirc/validation.jsonl" >md/multirc/validation.jsonl
    "$bin" run --model "$model" --tasks multirc,boolq --shots 0 --limit 30 --data-dir "$shared/data" --db m.db \
        >mrun.out 2>mrun.err
    ok $? "a run of MultiRC (30 answer options) and BoolQ"
    ce index --tasks multirc --data-dir md --out m.idx --examples m.ex >/dev/null 2>&1
    python3 -c 'import json,sys; print(" ".join(json.loads(l)["text"] for l in list(open(sys.argv[1]))[:3]))' m.ex >mcorpus.txt
    ce scan --index m.idx --db m.db mcorpus.txt >/dev/null 2>&1
    # the tiny model answers "no" to every option (F1a 0 everywhere): give it some "yes" predictions, so that the
    # subsets' F1a differ and show they are recomputed from the stored predictions
    python3 -c 'import sqlite3,sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE scores SET value = 1 WHERE metric = \"_pred\" AND doc_index % 3 <> 1 AND task_run_id = (SELECT id FROM task_runs WHERE task = \"multirc\")"); c.commit()' m.db
    ce report --db m.db --run 1 >m.out 2>m.err; ok $? "contamination report --run over MultiRC and an uncovered task"
    python3 - m.db m.out <<'EOF_F1A'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("""SELECT p.value, g.value, f.dirty FROM documents d JOIN task_runs t ON t.id = d.task_run_id
    JOIN scores p ON p.task_run_id = d.task_run_id AND p.doc_index = d.doc_index AND p.metric = '_pred'
    JOIN scores g ON g.task_run_id = d.task_run_id AND g.doc_index = d.doc_index AND g.metric = '_gold'
    JOIN contamination_flags f ON f.task = t.task AND f.doc_id = d.doc_id AND f.content_hash = d.content_hash
    WHERE t.task = 'multirc'""").fetchall()
def f1a(sub):
    tp = sum(1 for p, g, _ in sub if p == 1 and g == 1); fp = sum(1 for p, g, _ in sub if p == 1 and g != 1)
    fn = sum(1 for p, g, _ in sub if p != 1 and g == 1)
    return "%.2f" % (100 * 2 * tp / (2 * tp + fp + fn)) if 2 * tp + fp + fn else "0.00"
clean = [r for r in rows if r[2] == 0]; dirty = [r for r in rows if r[2] == 1]
want = ["multirc", "0", "validation", "f1a", "30", str(len(clean)), str(len(dirty)), "0", f1a(rows),
        f1a(clean) if clean else "-", f1a(dirty) if dirty else "-"]
got = [l.split() for l in open(sys.argv[2]) if l.startswith("multirc ")]
ok = len(rows) == 30 and dirty and clean and got and got[0][:11] == want
print("# want", want, "got", got)
sys.exit(0 if ok else 1)
EOF_F1A
    ok $? "MultiRC: n counts the 30 scored answer options; F1a on all, clean and dirty recomputed per subset"
    [ "$(grep -c . m.err)" = 1 ] && grep -q "^glam-eval: note: audit 1 .* does not cover boolq (not in its index)" m.err
    ok $? "a task the audit does not cover is named once, in one note, and not warned about"
    sed '1s/What causes a change in motion/What causes a change in momentum/' md/multirc/validation.jsonl \
        | head -n 20 >md2/multirc/validation.jsonl
    ce index --tasks multirc --data-dir md2 --out m2.idx >/dev/null 2>&1
    ce scan --index m2.idx --db m.db --name other-data mcorpus.txt >/dev/null 2>&1
    ce report --db m.db --run 1 >m2.out 2>m2.err
    grep -q "warning: multirc (0-shot): 11 scored documents have no verdict in this audit, which indexed the task: 1 with other content under the same id (the index was built from different data than the run evaluated), and 10 not in the index at all" m2.err
    ok $? "a task indexed from other data and fewer documents is warned about, saying which ($(head -c 300 m2.err))"
else
    for t in 1 2 3 4 5; do skip "../shared/models/stories260K or ../shared/data/multirc is absent"; done
fi

echo "1..$n"
[ "$fails" = 0 ]
