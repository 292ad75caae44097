#!/usr/bin/env python3
"""contamination_helper.py -- fixtures and an independent reference for tests/test_contamination.sh.

  fixture DIR              writes a small made-up data dir (arc_easy, nq_open, lambada, boolq) for the index
  plant EXAMPLES OUT SEED  writes a corpus under OUT with examples planted whole, partially (N+2 words, case and
                           punctuation changed, across line breaks), as near misses (N-1 words) and inside JSON
                           strings with escapes, between filler words that occur in no example; prints nothing and
                           writes OUT/expected.json: the example numbers that must be dirty, computed here by plain
                           list matching over the planted word sequences (no hashing)
  expect EXAMPLES OUT      recomputes OUT/expected.json for the N values in EXAMPLES (e.g. a --gpt3 index)
  check DB EXPECTED        exit 0 iff the dirty examples of the latest audit in DB are exactly EXPECTED
  witness DB ROOT          checks that each plain-text witness offset points at the n-gram's first word
  dump DB [--strip]        prints the latest audit's flags, one per line (--strip: corpus file without .gz/.zst
                           and without its first directory), for comparing audits
All randomness comes from the given seed."""
import json
import os
import random
import sqlite3
import sys

VOCAB = ("river stone lantern meadow copper whistle harbor violet thunder pepper marble candle orchard falcon "
         "ribbon velvet saddle glacier maple cobalt timber walnut sparrow canyon beacon quartz willow ember "
         "pebble lagoon thistle anchor cedar juniper mosaic prairie tundra nectar basalt cinder fjord garnet "
         "heron indigo jasmine kestrel lichen mantis nutmeg oyster poplar quiver raven sable tamarind umber").split()


def sentence(rng, n, fancy=False):
    words = [rng.choice(VOCAB) for _ in range(n)]
    if fancy:  # Unicode, case, punctuation and a contraction, which the normalisation must handle on both sides
        words[0] = words[0].capitalize()
        words[rng.randrange(n)] = "café"
        words[rng.randrange(n)] = "ΣΟΦΊΑ"
        words[rng.randrange(n)] = "don't"
        words[rng.randrange(n)] += ","
    return " ".join(words)


def fixture(out):
    rng = random.Random(7)

    def write(task, split, rows):
        os.makedirs(os.path.join(out, task), exist_ok=True)
        with open(os.path.join(out, task, split + ".jsonl"), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    arc = []
    for i in range(40):
        choices = [sentence(rng, rng.randint(1, 4)) for _ in range(4)]
        arc.append({"id": "arc-%d" % i, "question": sentence(rng, rng.randint(4, 16), fancy=i % 5 == 0) + "?",
                    "choices": {"text": choices, "label": ["A", "B", "C", "D"]}, "answerKey": "ABCD"[i % 4]})
    write("arc_easy", "test", arc)
    nq = [{"question": sentence(rng, rng.randint(3, 9)), "answer": [sentence(rng, rng.randint(1, 3))]}
          for _ in range(40)]
    write("nq_open", "validation", nq)
    lam = [{"text": sentence(rng, rng.randint(20, 60), fancy=i % 4 == 0) + "."} for i in range(30)]
    write("lambada", "test", lam)
    bq = [{"question": sentence(rng, rng.randint(5, 10)), "passage": sentence(rng, rng.randint(30, 80)),
           "idx": i, "label": i % 2} for i in range(30)]
    write("boolq", "validation", bq)
    # few-shot pools (a run loads them even at 0 shots); never indexed
    write("arc_easy", "validation", arc[:5])
    write("nq_open", "train_pool", nq[:5])
    write("boolq", "train", bq[:5])


def load_examples(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def reference_dirty(examples, segments):
    """Examples with an n-gram (or, when shorter than n, all their words) inside one planted segment."""
    dirty = set()
    for e in examples:
        w, n = e["words"], e["n"]
        if not w:
            continue
        grams = [w] if len(w) < n else [w[k:k + n] for k in range(len(w) - n + 1)]
        L = len(grams[0])
        want = {tuple(g) for g in grams}
        for seg in segments:
            if any(tuple(seg[k:k + L]) in want for k in range(len(seg) - L + 1)):
                dirty.add(e["example"])
                break
    return sorted(dirty)


def mangle(rng, word):
    """Case and punctuation changes that the normalisation undoes."""
    out = "".join(c.upper() if rng.random() < 0.3 else c for c in word)
    if len(out) > 2 and rng.random() < 0.3:
        k = rng.randrange(1, len(out))
        out = out[:k] + rng.choice(["'", "-", "\u2019", "."]) + out[k:]
    return out + (rng.choice([",", ";", "!", "?", ")", "\""]) if rng.random() < 0.3 else "")


def render(rng, words, breaks):
    parts = []
    for i, w in enumerate(words):
        if i:
            parts.append(rng.choice(["\n", "\r\n", "  ", "\t"]) if breaks and rng.random() < 0.4 else " ")
        parts.append(mangle(rng, w))
    return "".join(parts)


def plant(examples_path, out, seed):
    rng = random.Random(seed)
    examples = load_examples(examples_path)
    known = {w for e in examples for w in e["words"]}
    fillers = []
    while len(fillers) < 200:
        f = "zq" + "".join(rng.choice("bcdfghjklmnpstvwxz") for _ in range(rng.randint(4, 8)))
        if f not in known:
            fillers.append(f)

    def filler(k):
        return " ".join(rng.choice(fillers) for _ in range(k))

    segments = []  # normalised word lists of everything planted
    pieces = []    # (text, json) per planted piece, in order
    for idx, e in enumerate(examples):
        if idx % 3:
            continue
        w, n = e["words"], e["n"]
        if not w:
            continue
        kind = (idx // 3) % 4
        if kind == 0:  # whole, original text
            text, seg = e["text"], w
        elif kind == 1 and len(w) >= n + 2:  # partial: n + 2 consecutive words, mangled, across line breaks
            k = rng.randrange(0, len(w) - (n + 2) + 1)
            seg = w[k:k + n + 2]
            text = render(rng, seg, True)
        elif kind == 2:  # near miss: n - 1 words (or all but one word of a short example)
            m = min(n - 1, len(w) - 1)
            if m <= 0:
                continue
            k = rng.randrange(0, len(w) - m + 1)
            seg = w[k:k + m]
            text = render(rng, seg, False)
        else:  # whole example, mangled
            seg = w
            text = render(rng, w, True)
        segments.append(seg)
        pieces.append(text)
    # spread the pieces over 3 plain files, a JSONL file and a nested directory
    os.makedirs(os.path.join(out, "corpus", "sub"), exist_ok=True)
    files = [os.path.join(out, "corpus", "a.txt"), os.path.join(out, "corpus", "sub", "b.txt"),
             os.path.join(out, "corpus", "c.jsonl"), os.path.join(out, "corpus", "sub", "d.txt")]
    buckets = [[] for _ in files]
    for p in pieces:  # at random, so that every file gets every kind of piece
        buckets[rng.randrange(len(files))].append(p)
    for path, items in zip(files, buckets):
        with open(path, "w", encoding="utf-8", newline="") as f:
            if path.endswith(".jsonl"):
                for i, p in enumerate(items):
                    rec = {"id": i, "meta": {"tags": ["x", "y\"}"], "n": [1, 2.5e3, None, True]},
                           "text": filler(rng.randint(1, 5)) + " " + p + " " + filler(rng.randint(1, 5))}
                    f.write(json.dumps(rec, ensure_ascii=bool(i % 2)) + "\n")
            else:
                f.write(filler(20) + "\n")
                for p in items:
                    f.write(p + rng.choice([" ", "\n", "\n\n"]) + filler(rng.randint(1, 6)) + "\n")
    with open(os.path.join(out, "segments.json"), "w", encoding="utf-8") as f:
        json.dump(segments, f)
    expect(examples_path, out)


def expect(examples_path, out):
    with open(os.path.join(out, "segments.json"), encoding="utf-8") as f:
        segments = json.load(f)
    exp = reference_dirty(load_examples(examples_path), segments)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(exp, f)


def latest_flags(db):
    con = sqlite3.connect(db)
    iid = con.execute("SELECT max(id) FROM contamination_indexes").fetchone()[0]
    rows = con.execute("SELECT task, split, doc_id, content_hash, dirty, corpus_file, corpus_doc, byte_offset, "
                       "ngram FROM contamination_flags WHERE index_id = ? ORDER BY id", (iid,)).fetchall()
    con.close()
    return rows


def check(db, expected_path, examples_path):
    with open(expected_path) as f:
        expected = set(json.load(f))
    ex = load_examples(examples_path)
    by_key = {(e["task"], e["doc_id"]): e["example"] for e in ex}
    got = {by_key[(r[0], r[2])] for r in latest_flags(db) if r[4] == 1}
    if got != expected:
        print("# missing (planted, not flagged):", sorted(expected - got)[:20])
        print("# extra (flagged, not planted):", sorted(got - expected)[:20])
        return 1
    print("# %d dirty examples, as planted" % len(got))
    return 0


def norm_prefix(data):
    """A rough normalisation of the bytes after a witness offset (ASCII-lowercase, letters and digits only)."""
    text = data.decode("utf-8", "replace")
    return "".join(c.lower() for c in text if c.isalnum() or c.isspace()).split()


def witness(db, root):
    bad = 0
    n = 0
    for r in latest_flags(db):
        if r[4] != 1 or not r[5].endswith(".txt"):
            continue
        with open(os.path.join(root, r[5]) if not os.path.isabs(r[5]) else r[5], "rb") as f:
            f.seek(r[7])
            words = norm_prefix(f.read(4000))
        first = r[8].split(" ")[0]
        n += 1
        if not words or words[0] != first:
            bad += 1
            print("# witness %s@%d: expected %r, found %r" % (r[5], r[7], first, words[:3]))
    print("# %d plain-text witnesses checked" % n)
    return 1 if bad or n == 0 else 0


def dump(db, strip):
    for r in latest_flags(db):
        r = list(r)
        if strip and r[5]:
            p = r[5]
            for suf in (".gz", ".zst"):
                if p.endswith(suf):
                    p = p[:-len(suf)]
            r[5] = p.split("/", 1)[1] if "/" in p else p
        print("\t".join("" if v is None else str(v) for v in r))
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "fixture":
        fixture(argv[2])
    elif cmd == "plant":
        plant(argv[2], argv[3], int(argv[4]))
    elif cmd == "expect":
        expect(argv[2], argv[3])
    elif cmd == "check":
        return check(argv[2], argv[3], argv[4])
    elif cmd == "witness":
        return witness(argv[2], argv[3])
    elif cmd == "dump":
        return dump(argv[2], len(argv) > 3 and argv[3] == "--strip")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
