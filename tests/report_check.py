#!/usr/bin/env python3
"""report_check.py — checks a glam-eval report file for tests/test_report.sh (standard library only).

  report_check.py html FILE   the HTML is well formed (every non-void element closed in order), has the tables and
                              at least three inline <svg> charts, and loads nothing: no <script>, no src=/href=
                              attributes, no url(...) or @import in styles.
  report_check.py json FILE   the JSON has lm-evaluation-harness's top-level keys (results, groups, group_subtasks,
                              n-shot, configs, versions, higher_is_better, n-samples, config with model and
                              model_args), every results entry has "<metric>,none" numbers with a matching
                              "<metric>_stderr,none" and a higher_is_better entry, every task of a run (not a
                              paper's) has n-samples {original, effective}, every group is a complete average with a
                              number, and glam_eval.columns lists the report's columns.
Exit status 0 when the file passes, 1 with a message naming the problem otherwise."""
import json
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.counts = [], [], {}

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href") or (name == "style" and value and "url(" in value):
                self.errors.append(f"line {self.getpos()[0]}: <{tag} {name}=...> refers to a resource")
        if tag == "script":
            self.errors.append(f"line {self.getpos()[0]}: <script>")
        if tag not in VOID:
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            top = self.stack[-1] if self.stack else ("nothing", 0)
            self.errors.append(f"line {self.getpos()[0]}: </{tag}> closes <{top[0]}> of line {top[1]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if "@import" in data or "url(" in data:
            self.errors.append(f"line {self.getpos()[0]}: a style loads a resource")


def check_html(path):
    c = Checker()
    with open(path, encoding="utf-8") as f:
        c.feed(f.read())
    c.close()
    errors = list(c.errors)
    if c.stack:
        errors.append("unclosed: " + ", ".join(f"<{t}> of line {n}" for t, n in c.stack))
    if c.counts.get("table", 0) < 1:
        errors.append("no <table>")
    if c.counts.get("svg", 0) < 3:
        errors.append(f"{c.counts.get('svg', 0)} <svg> charts, expected 3 (two scaling panels, per-task bars)")
    return errors


def check_json(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    errors = [f"missing top-level key {k!r}" for k in ("results", "groups", "group_subtasks", "n-shot", "configs",
                                                       "versions", "higher_is_better", "n-samples", "config")
              if k not in doc]
    errors += [f"config lacks {k!r}" for k in ("model", "model_args") if not doc.get("config", {}).get(k)]
    for group, entry in doc.get("groups", {}).items():
        if not isinstance(entry.get("score,none"), (int, float)) or entry.get("complete") is not True:
            errors.append(f"groups[{group!r}] is not a complete average with a number")
    for task in doc.get("results", {}):
        if task not in doc.get("higher_is_better", {}):
            errors.append(f"{task!r} is missing from higher_is_better")
        if doc.get("versions", {}).get(task) != "published":
            ns = doc.get("n-samples", {}).get(task)
            if not isinstance(ns, dict) or not isinstance(ns.get("effective"), int) or "original" not in ns:
                errors.append(f"n-samples[{task!r}] is not {{original, effective}}: {ns!r}")
    for task, entry in doc.get("results", {}).items():
        metrics = [k for k in entry if k.endswith(",none") and "_stderr" not in k]
        if not metrics:
            errors.append(f"results[{task!r}] has no '<metric>,none'")
        for m in metrics:
            if not isinstance(entry[m], (int, float)):
                errors.append(f"results[{task!r}][{m!r}] is not a number")
            if m.replace(",none", "_stderr,none") not in entry:
                errors.append(f"results[{task!r}] lacks the stderr of {m!r}")
        if task not in doc.get("n-shot", {}) or task not in doc.get("configs", {}):
            errors.append(f"{task!r} is missing from n-shot or configs")
    if not doc.get("glam_eval", {}).get("columns"):
        errors.append("glam_eval.columns is empty")
    return errors


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("html", "json"):
        print(__doc__, file=sys.stderr)
        return 2
    errors = (check_html if sys.argv[1] == "html" else check_json)(sys.argv[2])
    for e in errors:
        print(f"{sys.argv[2]}: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
