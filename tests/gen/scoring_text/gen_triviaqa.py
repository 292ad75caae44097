"""TriviaQA test tables and files for glam-eval, with expected values from the official triviaqa scripts."""
import collections, json, os, subprocess, sys
from common import sha256, fnv1a64, ascii_upper, OUT, SHARED, TQA, WORK
sys.path.insert(0, TQA)  # mandarjoshi90/triviaqa@ca43b58
import evaluation.triviaqa_evaluation as te
import utils.dataset_utils as du
SHARED = SHARED + "/data/triviaqa/validation.jsonl"
EVAL = TQA + "/evaluation/triviaqa_evaluation.py"
DU = TQA + "/utils/dataset_utils.py"
prov = ("official mandarjoshi90/triviaqa@ca43b5820b107f3970cf4b7d67f7db7a98117b79 evaluation/triviaqa_evaluation.py "
        "(sha256 %s) and utils/dataset_utils.py (sha256 %s) under CPython %s" % (sha256(EVAL), sha256(DU), sys.version.split()[0]))

# 1. per-question table
rows = []
def add(cid, pred, golds): rows.append((cid, pred, golds))
H = [
 ("exact", "Sunset Boulevard", ["sunset boulevard", "sunset blvd"]),
 ("alias-second", "Sunset Blvd.", ["sunset boulevard", "sunset blvd"]),
 ("article", "The Beatles", ["beatles"]),
 ("article-An", "An Officer and a Gentleman", ["officer and gentleman"]),
 ("vitamin-a", "Vitamin A", ["vitamin"]),
 ("hyphen-space", "Hewlett-Packard", ["hewlett packard"]),
 ("hyphen-vs-joined", "Hewlett-Packard", ["hewlettpackard"]),
 ("underscore", "snake_case", ["snake case"]),
 ("curly-apostrophe", "O’Neill", ["o neill"]),
 ("acute-accent-char", "O´Neill", ["o neill"]),
 ("backtick", "`quoted`", ["quoted"]),
 ("straight-apostrophe", "O'Neill", ["o neill"]),
 ("curly-double-quotes-kept", "“Hey Jude”", ["hey jude"]),
 ("en-dash-kept", "1990–1995", ["1990 1995"]),
 ("ascii-hyphen", "1990-1995", ["1990 1995"]),
 ("numbers", "1,000", ["1 000"]),
 ("decimal", "3.14", ["3 14"]),
 ("case-accent", "ÉCOLE", ["école"]),
 ("case-sigma", "ΟΔΟΣ", ["οδος"]),
 ("empty-pred", "", ["onion"]),
 ("empty-gold", "onion", [""]),
 ("both-empty", "", [""]),
 ("article-only-pred", "the", ["the"]),
 ("partial", "red onion", ["onion", "spanish onion"]),
 ("repeated", "onion onion", ["onion"]),
 ("raw-alias-normalised-again", "The Sunset Blvd.", ["The Sunset-Blvd."]),
 ("nbsp", "New\u00a0York", ["new york"]),
 ("ideographic", "New\u3000York", ["new york"]),
 ("tab", "New\tYork", ["new york"]),
 ("cjk", "東京", ["東京"]),
 ("emoji", "👍 onion", ["onion"]),
 ("many-aliases", "Allium cepa", ["onion skins", "allium angolense", "onion", "bulb onion", "allium cepa"]),
 ("wrong", "xylophone", ["onion", "bulb onion"]),
 ("superset", "the spanish onion soup", ["spanish onion"]),
 ("squad-vs-triviaqa-dot", "U.S.A.", ["u s"]),
 ("sigma-before-apostrophe", "ΑΣ'Α", ["ασ α"]),
 ("sigma-before-curly-apostrophe", "ΑΣ’Α", ["ας α"]),
 ("sigma-before-acute", "ΑΣ´Α", ["ασ α"]),
 ("sigma-before-backtick", "ΑΣ`Α", ["ασ α"]),
 ("sigma-before-period", "ΟΔΟΣ.ΟΔΟΣ", ["οδος οδος"]),
 ("sigma-before-colon", "ΑΣ:Α", ["ασ α"]),
 ("sigma-after-apostrophe", "Α'Σ", ["α σ"]),
 ("sigma-before-hyphen", "ΑΣ-Α", ["ας α"]),
 ("dotted-capital-i", "İSTANBUL", ["i̇stanbul"]),
 ("word-superscript", "the²", ["the²"]),
 ("word-half", "a½ b", ["b"]),
 ("word-combining", "a\u0301 b", ["b"]),
 ("circled-letter", "aⒶ", ["ⓐ"]),
]
for cid, p, g in H: add("hand-" + cid, p, g)
GOLDS = [["sunset boulevard", "sunset blvd"], ["o neill", "eugene o neill"], ["1990 1995"], ["hewlett packard"],
         ["vitamin"], ["antelope", "antelopes"], ["new york city", "nyc"], ["école normale"], ["οδος"], ["rock n roll", "rock and roll"]]
PERT = [("same", lambda g: g), ("upper", lambda g: g.upper()), ("add-the", lambda g: "The " + g),
        ("add-punct", lambda g: g + "!"), ("curly", lambda g: "‘" + g + "’"), ("hyphenate", lambda g: "-".join(g.split())),
        ("underscore", lambda g: "_".join(g.split())), ("drop-last", lambda g: " ".join(g.split()[:-1])),
        ("extend", lambda g: g + " and more"), ("empty", lambda g: ""), ("wrong", lambda g: "xylophone")]
for gi, golds in enumerate(GOLDS):
    for pname, f in PERT:
        add("gen-g%02d-%s" % (gi, pname), f(golds[0]), golds)
with open(OUT + "/triviaqa_cases.jsonl", "w", encoding="utf-8") as f:
    f.write("# triviaqa_cases.jsonl — per-question TriviaQA cases for triviaqa_normalize / triviaqa_score_question.\n")
    f.write("# One JSON object per line: id, pred, golds (ground truths as get_ground_truths returns them), em, f1,\n")
    f.write("# pred_norm (normalize_answer(pred)). Lines starting with '#' are comments. Inputs written for this table\n")
    f.write("# (generator: tests/gen/scoring_text/gen_triviaqa.py); expected values from metric_max_over_ground_truths\n")
    f.write("# with exact_match_score / f1_score and normalize_answer of the %s.\n" % prov)
    for cid, p, g in rows:
        rec = {"id": cid, "pred": p, "golds": g,
               "em": float(te.metric_max_over_ground_truths(te.exact_match_score, p, g)),
               "f1": float(te.metric_max_over_ground_truths(te.f1_score, p, g)),
               "pred_norm": te.normalize_answer(p)}
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
print(len(rows), "triviaqa rows", file=sys.stderr)

# 2. a small Web-domain official file with VerifiedEval, HumanAnswers, repeated keys; and a Wikipedia one
def page(fn, verified=True): return {"Filename": fn, "DocPartOfVerifiedEval": verified, "Title": fn}
def datum(qid, aliases, verified=True, ent=(), search=(), human=None):
    a = {"Aliases": [x.title() for x in aliases], "NormalizedAliases": aliases, "NormalizedValue": aliases[0] if aliases else "",
         "Type": "WikipediaEntity", "Value": aliases[0].title() if aliases else ""}
    if human is not None: a["HumanAnswers"] = human
    return {"QuestionId": qid, "Question": "question %s?" % qid, "Answer": a, "QuestionPartOfVerifiedEval": verified,
            "EntityPages": list(ent), "SearchResults": list(search)}
web = {"Version": 1.0, "Domain": "Web", "VerifiedEval": True, "Data": [
  datum("tc_1", ["sunset boulevard", "sunset blvd"], ent=[page("Sunset_Boulevard.txt"), page("Andrew.txt", False)],
        search=[page("35/35_995.txt"), page("35/35_996.txt")]),
  datum("tc_2", ["onion", "bulb onion"], human=["Red Onion!", "The Onion"], ent=[page("Onion.txt")]),
  datum("tc_3", ["antelope"], verified=False, ent=[page("Antelope.txt")]),
  datum("tc_4", ["école normale"], search=[page("1/1_1.txt"), page("1/1_1.txt")]),   # same page twice: one key
  datum("tc_5", ["ΟΔΟΣ"], ent=[page("Odos.txt")]),
]}
json.dump(web, open(OUT + "/triviaqa_small_web.json", "w", encoding="utf-8"), ensure_ascii=False, indent=1)
wiki = {"Version": 1.0, "Domain": "Wikipedia", "VerifiedEval": False, "Data": [
  datum("q1", ["sunset boulevard", "sunset blvd"]), datum("q2", ["onion"], human=["Bulb-Onion"]),
  datum("q3", ["antelope", "antelopes"]), datum("q1", ["hollywood"]),                   # repeated key: last wins
  datum("q4", ["o neill"]), datum("q5", ["vitamin"]),
]}
json.dump(wiki, open(OUT + "/triviaqa_small_wiki.json", "w", encoding="utf-8"), ensure_ascii=False, indent=1)
# JSONL copy of the Wikipedia file in the HF schema (question_id present)
with open(OUT + "/triviaqa_small_wiki.jsonl", "w", encoding="utf-8") as f:
    for d in wiki["Data"]:
        if "HumanAnswers" in d["Answer"]:
            continue  # HF's schema has no HumanAnswers
        f.write(json.dumps({"question": d["Question"], "question_id": d["QuestionId"],
                            "answer": {"aliases": d["Answer"]["Aliases"], "normalized_aliases": d["Answer"]["NormalizedAliases"]}},
                           ensure_ascii=False) + "\n")
preds_web = [("tc_1--Sunset_Boulevard.txt", "Sunset Blvd."), ("tc_1--35/35_995.txt", "Hollywood"),
             ("tc_1--Andrew.txt", "sunset boulevard"), ("tc_2--Onion.txt", "the red onion"), ("tc_3--Antelope.txt", "antelope"),
             ("tc_4--1/1_1.txt", "École Normale"), ("tc_5--Odos.txt", "οδος"), ("unknown", "x")]
preds_wiki = [("q1", "wrong first value"), ("q1", "Hollywood"), ("q2", "bulb onion"), ("q3", "Antelopes!"),
              ("q4", "O’Neill"), ("q9", "unknown id")]
def write_preds(path, items):
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False)) for k, v in items) + "\n}\n")
write_preds(OUT + "/triviaqa_small_web_preds.json", preds_web)
write_preds(OUT + "/triviaqa_small_wiki_preds.json", preds_wiki)

def official(dataset, preds):
    """What `python -m evaluation.triviaqa_evaluation --dataset_file D --prediction_file P` computes (it prints the dict)."""
    ds = du.read_triviaqa_data(dataset)
    gt = du.get_key_to_ground_truth(ds)
    return te.evaluate_triviaqa(gt, json.load(open(preds, encoding="utf-8")), mute=True)

# the script run itself, to show the printed dict equals the function result
p = subprocess.run([sys.executable, "-m", "evaluation.triviaqa_evaluation", "--dataset_file", OUT + "/triviaqa_small_web.json",
                    "--prediction_file", OUT + "/triviaqa_small_web_preds.json"], cwd=TQA, capture_output=True, text=True, check=True)
assert p.stdout.strip().splitlines()[-1] == str(official(OUT + "/triviaqa_small_web.json", OUT + "/triviaqa_small_web_preds.json")), p.stdout

# 3. the shared JSONL as an official Wikipedia file (keys = line numbers), with deterministic predictions
def predict(key, value, aliases):
    """Deterministic prediction (mirrored by make_prediction() in tests/test_triviaqa.c); None = no prediction."""
    k = fnv1a64(key.encode()) % 6
    if k == 0: return value
    if k == 1: return ascii_upper(value) + "."
    if k == 2: return ""
    if k == 3: return "xylophone"
    if k == 4: return "The " + aliases[-1]
    return None
exp = collections.OrderedDict()
exp["_comment"] = ("Expected outputs for tests/test_triviaqa.c: evaluate_triviaqa of the %s, run on the "
                   "triviaqa_small_* files (written for glam-eval by tests/gen/scoring_text/gen_triviaqa.py) and on "
                   "../shared/data/triviaqa/validation.jsonl converted to an official Wikipedia-domain file (QuestionId = "
                   "1-based line number, glam-eval's id of a record without one; NormalizedAliases = "
                   "answer.normalized_aliases) with the deterministic predictions of make_prediction() (FNV-1a of the "
                   "0-based line number picks one of six forms, one of them 'no prediction')." % prov)
exp["web"] = official(OUT + "/triviaqa_small_web.json", OUT + "/triviaqa_small_web_preds.json")
exp["wiki"] = official(OUT + "/triviaqa_small_wiki.json", OUT + "/triviaqa_small_wiki_preds.json")
# JSONL copy: same but without q2 (HumanAnswers are not in the HF schema)
tmp_wiki = dict(wiki, Data=[d for d in wiki["Data"] if "HumanAnswers" not in d["Answer"]])
json.dump(tmp_wiki, open(WORK + "/tqa_wiki_nohuman.json", "w"))
exp["wiki_jsonl"] = official(WORK + "/tqa_wiki_nohuman.json", OUT + "/triviaqa_small_wiki_preds.json")
if os.path.exists(SHARED):
    recs = [json.loads(l) for l in open(SHARED, encoding="utf-8")]
    conv = {"Version": 1.0, "Domain": "Wikipedia", "VerifiedEval": False,
            "Data": [{"QuestionId": str(i + 1), "Answer": {"NormalizedAliases": r["answer"]["normalized_aliases"],
                      "Aliases": r["answer"]["aliases"]}} for i, r in enumerate(recs)]}
    json.dump(conv, open(WORK + "/triviaqa-shared-official.json", "w"))
    preds = {}
    for i, r in enumerate(recs):  # keyed by the 1-based line, drawn from the hash of the 0-based one
        v = predict(str(i), r["answer"]["value"], r["answer"]["aliases"])
        if v is not None: preds[str(i + 1)] = v
    preds["not-a-question"] = "x"
    json.dump(preds, open(WORK + "/triviaqa-shared-preds.json", "w"), ensure_ascii=False)
    exp["shared_sha256"] = sha256(SHARED)
    exp["shared_records"] = len(recs)
    exp["shared"] = official(WORK + "/triviaqa-shared-official.json", WORK + "/triviaqa-shared-preds.json")
open(OUT + "/triviaqa_expected.json", "w").write(json.dumps(exp, indent=2, ensure_ascii=False) + "\n")
