"""qa_em test tables and files for glam-eval. Per-question values: the official SQuAD v2.0 functions, applied as
DPR's open-domain rule (max of compute_exact / compute_f1 over every gold, none dropped; no gold: [""]) for
qa_em_score and the file scorer, and as get_raw_scores itself (golds normalising to nothing dropped) for files with
golds in SQuAD v2's {"text": [...]} shape; file values: those per-question values averaged, with
lm-evaluation-harness's mean_stderr formula."""
import collections, json, math, os, re, string, sys
from common import load, sha256, fnv1a64, EV2, OUT, SHARED, PY
ev2 = load("ev2", EV2)
SHARED = SHARED + "/data"

def per_question_open(items):
    """items: list of (qid, pred, golds) -> {qid: (em, f1)}: DPR's rule (qa_validation.py exact_match_score is
    normalize_answer(pred) == normalize_answer(gold), max over all golds) with the official compute_exact and
    compute_f1; a question without golds has the gold "" as in SQuAD v2.0."""
    return {q: (float(max(ev2.compute_exact(g, p) for g in (golds or [""]))),
                float(max(ev2.compute_f1(g, p) for g in (golds or [""])))) for q, p, golds in items}

def per_question(items):
    """items: list of (qid, pred, golds) -> {qid: (em, f1)} via the official get_raw_scores."""
    ds = [{"paragraphs": [{"qas": [{"id": q, "answers": [{"text": g} for g in golds]} for q, _, golds in items]}]}]
    ex, f1 = ev2.get_raw_scores(ds, {q: p for q, p, _ in items})
    return {q: (float(ex[q]), float(f1[q])) for q, _, _ in items}

# lm-eval's nq_open / triviaqa exact_match (for the report only: how often the two metrics disagree)
def lmeval_em(pred, golds, regex):
    def prep(x):
        if regex: x = re.sub(regex, "", x)
        x = x.lower()
        return x.translate(str.maketrans("", "", string.punctuation))
    p = prep(pred.strip())
    return float(any(p == prep(g) for g in golds))

# 1. per-question table
rows = []
def add(cid, pred, golds): rows.append((cid, pred, golds))
for cid, p, g in [
 ("nq-date", "14 December 1972", ["14 December 1972 UTC", "December 1972"]),
 ("nq-date-utc", "14 December 1972 UTC", ["14 December 1972 UTC", "December 1972"]),
 ("nq-name-article", "The Impalas", ["The Impalas"]),
 ("nq-name-no-article", "Impalas", ["The Impalas"]),
 ("nq-trailing-article-lmeval-differs", "Impalas the", ["Impalas"]),
 ("nq-uppercase-article-lmeval-differs", "THE IMPALAS", ["The Impalas"]),
 ("nq-double-space-lmeval-differs", "South  Carolina", ["South Carolina"]),
 ("nq-nbsp-unit", "54 Mbit/s", ["54\u00a0Mbit/s"]),
 ("nq-one-of-two", "one season", ["one", "one season"]),
 ("nq-accent", "Antonio Guterres", ["António Guterres"]),
 ("nq-accent-same", "antónio guterres", ["António Guterres"]),
 ("nq-year", "2017", ["2017"]),
 ("nq-year-in-sentence", "in 2017", ["2017"]),
 ("nq-empty", "", ["2017"]),
 ("nq-period-cut", "James I.", ["James I"]),
 ("webqs-language", "Jamaican English", ["Jamaican Creole English Language", "Jamaican English"]),
 ("webqs-lowercase", "lawyer", ["Lawyer"]),
 ("webqs-partial", "Jamaican", ["Jamaican Creole English Language", "Jamaican English"]),
 ("webqs-multi", "Bifocals", ["Lightning rod", "Franklin stove", "Bifocals", "Glass harmonica"]),
 ("webqs-accent", "Padme Amidala", ["Padmé Amidala"]),
 ("tqa-alias", "Bulb onion", ["Onion skins", "Onion", "Bulb onion"]),
 ("tqa-hyphen-alias", "Hewlett-Packard", ["Hewlett-Packard", "HP"]),
 ("tqa-hyphen-pred-space-alias", "Hewlett Packard", ["Hewlett-Packard"]),
 ("squad-noans-empty", "", []),
 ("squad-noans-text", "France", []),
 ("squad-article-only-gold", "", ["the"]),
 ("curly-quotes", "“Hey Jude”", ["Hey Jude"]),
 ("ascii-quotes", "\"Hey Jude\"", ["Hey Jude"]),
 ("sigma", "ΟΔΟΣ", ["οδος"]),
 ("cjk", "東京", ["東京"]),
 ("whitespace-tab", "New\tYork", ["New York"]),
 ("ideographic-space", "New\u3000York", ["New York"]),
 ("f1-partial", "New York City", ["New York"]),
 ("f1-best-of-golds", "the red onion soup", ["onion", "red onion"]),
 ("nq-gold-normalises-to-nothing", "A+", ["A+", "AB+"]),
 ("nq-other-gold-than-nothing", "AB+", ["A+", "AB+"]),
 ("nq-wrong-vs-nothing-gold", "B", ["*"]),
]:
    add(cid, p, g)
with open(OUT + "/qa_em_cases.jsonl", "w", encoding="utf-8") as f:
    f.write("# qa_em_cases.jsonl — per-question cases for qa_em_score / qa_f1_score (scoring/qa_em.h): id, pred, golds, em, f1.\n")
    f.write("# Lines starting with '#' are comments. Inputs written for this table (generator:\n")
    f.write("# tests/gen/scoring_text/gen_qa_em.py). Expected values: DPR's open-domain rule, max over every gold of\n")
    f.write("# compute_exact / compute_f1 of the official SQuAD v2.0 evaluate-v2.0.py (SQuAD-explorer@eee5fdbf, sha256\n")
    f.write("# %s), CPython %s; no gold: the gold \"\". lm_eval_em: lm-evaluation-harness@4e7e0d47 nq_open's\n" % (sha256(EV2), PY))
    f.write("# exact_match (strip, regexes_to_ignore, ignore_case, ignore_punctuation; max over golds), for reference only.\n")
    pq = per_question_open(rows)
    n_diff = 0
    for cid, p, g in rows:
        em, f1 = pq[cid]
        lm = lmeval_em(p, g or [""], r"\b(?:The |the |An |A |The |a |an )")
        n_diff += lm != em
        f.write(json.dumps({"id": cid, "pred": p, "golds": g, "em": em, "f1": f1, "lm_eval_em": lm}, ensure_ascii=False) + "\n")
print(len(rows), "qa rows;", n_diff, "differ from lm-eval nq_open", file=sys.stderr)

# 2. file scorer: reference implementation over the official per-question values
def lm_mean(a): return sum(a) / len(a)
def lm_stderr(a):
    if len(a) < 2: return None
    mu = lm_mean(a)
    return math.sqrt(sum([(x - mu) ** 2 for x in a]) / (len(a) - 1)) / math.sqrt(len(a))
def get_path(rec, path):
    for step in path.split("."):
        rec = rec[step]
    return rec
def golds_of(v):
    if isinstance(v, str): return [v]
    if isinstance(v, dict): v = v["text"]
    return list(v)
def score_file(records, answer_field, id_of, preds, metric):
    items, ids = [], []
    squad_form = any(isinstance(get_path(r, answer_field), dict) for r in records)
    for i, r in enumerate(records):
        q = id_of(i, r)
        ids.append(q)
        if q in preds:
            items.append((q, preds[q], golds_of(get_path(r, answer_field))))
    pq = per_question(items) if squad_form else per_question_open(items)
    per = [pq[q][0 if metric == "em" else 1] if q in pq else 0.0 for q in ids]
    rep = collections.OrderedDict([("metric", metric), ("score", lm_mean(per)), ("stderr", lm_stderr(per)),
                                   ("n", len(per)), ("missing", sum(1 for q in ids if q not in preds))])
    return rep

def predict(qid, golds):
    """Deterministic prediction (mirrored by make_prediction() in tests/test_qa_em.c); None = no prediction."""
    k = fnv1a64(qid.encode()) % 5
    if k == 0: return golds[0] if golds else ""
    if k == 1: return "The " + golds[-1] + " extra words." if golds else "unanswerable"
    if k == 2: return ""
    if k == 3: return "xylophone"
    return None

exp = collections.OrderedDict()
exp["_comment"] = ("Expected reports for tests/test_qa_em.c: per-question EM/F1 from the official evaluate-v2.0.py "
    "(sha256 %s, CPython %s): get_raw_scores() for golds in SQuAD v2's {\"text\": [...]} shape (squad_*), else DPR's rule "
    "(max of compute_exact / compute_f1 over every gold); a question without a prediction scored 0, score = sum/len, stderr = "
    "lm-evaluation-harness's mean_stderr (sample_stddev/sqrt(n)). Inputs: the qa_em_small_* files (written for glam-eval) "
    "and, for the shared_* entries, ../shared/data files with the deterministic predictions of make_prediction() "
    "(FNV-1a of the 0-based line number, or of the id field for squad_v2, picks one of five forms, one of them 'no "
    "prediction'); ids are the 1-based line numbers (glam-eval's ids of records without one) except squad_v2 (field "
    "id). Generator: tests/gen/scoring_text/gen_qa_em.py." % (sha256(EV2), PY))

# small files: nq_open shape (ids = line numbers), squad_v2 shape (id field), webqs-like with explicit fields
nq = [{"question": "when was the last time anyone was on the moon", "answer": ["14 December 1972 UTC", "December 1972"]},
      {"question": "who sang i ran all the way home", "answer": ["The Impalas"]},
      {"question": "what is the maximum data rate for 802.11a", "answer": ["54\u00a0Mbit/s"]},
      {"question": "single string answer", "answer": "Paris"},
      {"question": "who is the security general of the un", "answer": ["António Guterres"]}]
with open(OUT + "/qa_em_small_nq.jsonl", "w", encoding="utf-8") as f:
    for r in nq: f.write(json.dumps(r, ensure_ascii=False) + "\n")
nq_preds = [(1, "December 1972"), (2, "Impalas"), (3, "54 Mbit/s"), (5, "antonio guterres")]  # line 4 missing
with open(OUT + "/qa_em_small_nq_preds.jsonl", "w", encoding="utf-8") as f:
    for i, p in nq_preds: f.write(json.dumps({"id": i, "prediction": p}, ensure_ascii=False) + "\n")
sq = [{"id": "a1", "question": "q", "answers": {"text": ["France", "in France"], "answer_start": [0, 0]}},
      {"id": "a2", "question": "q", "answers": {"text": [], "answer_start": []}},
      {"id": "a3", "question": "q", "answers": {"text": ["10th and 11th centuries"], "answer_start": [0]}},
      {"id": "a4", "question": "q", "answers": {"text": [], "answer_start": []}}]
with open(OUT + "/qa_em_small_squad.jsonl", "w", encoding="utf-8") as f:
    for r in sq: f.write(json.dumps(r, ensure_ascii=False) + "\n")
sq_preds = [("a3", "the 10th century"), ("a1", "France!"), ("a2", ""), ("a4", "Paris")]
with open(OUT + "/qa_em_small_squad_preds.jsonl", "w", encoding="utf-8") as f:
    f.write("\n")  # a blank line is skipped
    for i, p in sq_preds: f.write(json.dumps({"id": i, "prediction": p, "extra": 1}, ensure_ascii=False) + "\n")
custom = [{"meta": {"qid": 10}, "gold": {"best": "Lawyer"}}, {"meta": {"qid": 11}, "gold": {"best": ["Bifocals", "Franklin stove"]}}]
with open(OUT + "/qa_em_small_custom.jsonl", "w", encoding="utf-8") as f:
    for r in custom: f.write(json.dumps(r) + "\n")
with open(OUT + "/qa_em_small_custom_preds.jsonl", "w", encoding="utf-8") as f:
    f.write(json.dumps({"id": "11", "prediction": "franklin stove"}) + "\n" + json.dumps({"id": 10, "prediction": "a lawyer"}) + "\n")
for metric in ("em", "f1"):
    exp["nq_" + metric] = score_file(nq, "answer", lambda i, r: str(i + 1), {str(i): p for i, p in nq_preds}, metric)
    exp["squad_" + metric] = score_file(sq, "answers", lambda i, r: r["id"], dict(sq_preds), metric)
    exp["custom_" + metric] = score_file(custom, "gold.best", lambda i, r: str(r["meta"]["qid"]),
                                         {"11": "franklin stove", "10": "a lawyer"}, metric)

# shared data
for task, split, field, idf in [("nq_open", "validation", "answer", None), ("webqs", "test", "answers", None),
                                ("triviaqa", "validation", "answer.aliases", None), ("squad_v2", "validation", "answers", "id")]:
    path = "%s/%s/%s.jsonl" % (SHARED, task, split)
    if not os.path.exists(path): continue
    recs = [json.loads(l) for l in open(path, encoding="utf-8")]
    # ids: the id field, else the 1-based line number (glam-eval's rule, scoring/doc_id.h); the prediction is drawn
    # from the hash of the 0-based line number, the key these values were first made with
    id_of = (lambda i, r: r["id"]) if idf else (lambda i, r: str(i + 1))
    hash_of = (lambda i, r: r["id"]) if idf else (lambda i, r: str(i))
    preds = {}
    for i, r in enumerate(recs):
        p = predict(hash_of(i, r), golds_of(get_path(r, field)))
        if p is not None: preds[id_of(i, r)] = p
    for metric in ("em", "f1"):
        e = score_file(recs, field, id_of, preds, metric)
        e["records"] = len(recs)
        e["sha256"] = sha256(path)
        exp["shared_%s_%s" % (task, metric)] = e
open(OUT + "/qa_em_expected.json", "w").write(json.dumps(exp, indent=2, ensure_ascii=False) + "\n")
