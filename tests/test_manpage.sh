#!/bin/sh
# test_manpage.sh — docs/glam-eval.1 keeps up with the commands' --help, the source of truth for options. For every
# command `glam-eval --help` lists: the page has a section for it under OPTIONS (".SS CMD ..."; a shared section
# counts for the commands its heading names in parentheses, e.g. ".SS "Model and endpoint options (run, loglik,
# generate)""), every long option that `glam-eval CMD --help` mentions appears in those sections, and every option
# of its usage lines appears in its SYNOPSIS entries (".SY "glam-eval CMD ..."" to ".YS"). Then the page renders
# without groff warnings. Prints TAP; a failure names the command and the options missing.
bin=${GLAM_EVAL_BIN:-./glam-eval}
src=${TEST_SRCDIR:-.}
page="$src/docs/glam-eval.1"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }

# The page as plain words: "\-" is "-", font changes, quotes and unbreakable spaces dropped.
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\~/ /g' -e 's/\\(dq//g' -e 's/"//g' "$page" >"$tmp/page"

# section_of CMD: the text of the OPTIONS sections that document CMD
section_of() {
    awk -v cmd="$1" '
        /^\.SH / { on = 0; next }
        /^\.SS / {
            head = substr($0, 5); on = 0
            split(head, w, " ")
            if (w[1] == cmd) on = 1
            if (match(head, /\(.*\)/)) {
                k = split(substr(head, RSTART + 1, RLENGTH - 2), list, /, */)
                for (i = 1; i <= k; i++) if (list[i] == cmd) on = 1
            }
            next
        }
        on { print }' "$tmp/page"
}
# synopsis_of CMD: the SYNOPSIS entries of CMD, each from its .SY line
synopsis_of() {
    awk -v cmd="$1" '
        /^\.SH / { syn = ($0 == ".SH SYNOPSIS"); on = 0; next }
        syn && /^\.SY / { on = ($2 == "glam-eval" && $3 == cmd) }
        syn && /^\.YS/ { on = 0; next }
        on { print }' "$tmp/page"
}
# missing FILE OPTION...: the options that do not occur in FILE as whole words
missing() {
    f=$1
    shift
    for opt in "$@"; do
        grep -Eq -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|\$)" "$f" || printf ' %s' "$opt"
    done
}
options() { grep -o -- '--[a-z0-9][a-z0-9-]*[a-z0-9]' | grep -vx -- '--help' | sort -u; }

cmds=$("$bin" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
if [ -n "$cmds" ]; then pass "glam-eval --help lists the commands"; else fail "glam-eval --help lists no command"; fi
for cmd in $cmds; do
    "$bin" "$cmd" --help >"$tmp/help" 2>&1
    section_of "$cmd" >"$tmp/section"
    synopsis_of "$cmd" >"$tmp/synopsis"
    if [ ! -s "$tmp/section" ]; then
        fail "$cmd: the man page has no section for it under OPTIONS (.SS $cmd)"
        continue
    fi
    # shellcheck disable=SC2046 # one word per option
    gone=$(missing "$tmp/section" $(options <"$tmp/help"))
    if [ -z "$gone" ]; then pass "$cmd: every option of its --help is documented in the man page"
    else fail "$cmd: options of its --help missing from the man page's OPTIONS:$gone"; fi
    awk 'NR == 1 && !/^usage:/ {exit} /^$/ {exit} {print}' "$tmp/help" >"$tmp/usage"
    # shellcheck disable=SC2046
    gone=$(missing "$tmp/synopsis" $(options <"$tmp/usage"))
    if [ ! -s "$tmp/synopsis" ]; then fail "$cmd: the man page's SYNOPSIS has no entry (.SY \"glam-eval $cmd ...\")"
    elif [ -z "$gone" ]; then pass "$cmd: every option of its usage lines is in the man page's SYNOPSIS"
    else fail "$cmd: options of its usage lines missing from the man page's SYNOPSIS:$gone"; fi
done

if command -v groff >/dev/null 2>&1; then
    groff -man -Tutf8 -ww -z "$page" >"$tmp/groff" 2>&1
    if [ $? = 0 ] && [ ! -s "$tmp/groff" ]; then pass "the man page renders without groff warnings"
    else fail "groff warns about the man page:"; sed 's/^/#   /' "$tmp/groff"; fi
else
    n=$((n + 1)); echo "ok $n # SKIP groff is not installed"
fi
echo "1..$n"
[ $fails = 0 ]
