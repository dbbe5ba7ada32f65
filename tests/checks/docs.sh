#!/usr/bin/env bash
# docs: the man pages render cleanly and say what the code does. Every list compared here is
# taken from the code or from the programs themselves, never from a copy:
#   - each docs/*.[1-8] renders with neither man(1) nor groff warnings;
#   - each command of `escctl --help` has its entry in escctl.1, and each option that
#     `escctl help CMD` shows is in escctl.1; each exit code of agent/escctl/escctl*.h is listed;
#   - each option a parser of agent/ accepts (its option tables and getopt strings, each option
#     tried on each command) is in `escctl help CMD` or `escctl --help` and in escctl.1, and
#     each one `esc-agent --op` accepts is in `esc-agent --help` and esc-agent.8;
#   - each key common/conf.c accepts is documented in esc.conf.5, and esc.conf.5 documents
#     no key the code refuses; config/esc.conf shows every key;
#   - each module option pam_esc/pe_cfg.c parses is in pam_esc.8;
#   - each option of esc-agent's usage and each mode agent/handoff/handoff_serve.c accepts is in
#     esc-agent.8;
#   - docs/pam-stacks.md says where each file of config/pam.d goes.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ESC_TOP" || exit 1
DOCS=${DOCS_DIR:-docs} # another directory: to prove that each check can fail
PAGES=(pam_esc.8 esc-agent.8 escctl.1 esc.conf.5)
BIN=$ESC_BUILD_PLAIN
[ -x "$BIN/escctl" ] || BIN=$ESC_BUILD

# The page as plain text: no hyphenation, one paragraph per line, ASCII.
render() { LC_ALL=C groff -man -Tascii -rHY=0 -rLL=1000n -P-cbou "$1" 2>/dev/null; }
# The lines of section NAME of a rendered page (up to the next section heading).
section() { awk -v s="$2" '/^[A-Z]/ { on = ($0 == s); next } on' <<<"$1"; }
# Fail NAME with the missing items, or pass it.
report() {
    local name=$1 missing=$2
    if [ -z "$missing" ]; then pass "$name"; else fail "$name" "missing:$missing"; fi
}

# The options the parsers in FILES... know, one "NAME TAKES_ARG" line each: the entries of
# their `struct option` tables, the letters of their getopt strings, the arguments main()
# compares (`strcmp(argv[i], "--x")`).
parser_options() {
    grep -ohE '\{"[a-z][a-z-]*", *(no|required|optional)_argument' "$@" |
        sed -E 's/\{"([^"]*)", *required_argument/--\1 1/; s/\{"([^"]*)", *(no|optional)_argument/--\1 0/'
    grep -ohE 'getopt(_long)? *\([^"]*"[^"]*"' "$@" | sed -E 's/.*"([^"]*)"/\1/; s/^[+-]//' |
        grep -oE '[A-Za-z0-9]:?' | sed -E 's/^(.):$/-\1 1/; s/^(.)$/-\1 0/'
    grep -ohE 'strn?cmp\(argv\[i\], "-[^"=]+=?"' "$@" | sed -E 's/.*"(-[^"=]+)(=?)"/\1 0/'
}
# Is option $1 (taking an argument when $2 is 1) accepted by COMMAND...? The command line is
# parsed before esc.conf is read, so with a missing esc.conf an accepted option exits 3 (or 0,
# e.g. a --help), a refused one 2. Prints "yes", "no", or the unexpected exit code.
accepts() {
    local o=$1 a=$2 rc; shift 2
    if [ "$a" = 1 ]; then set -- "$@" "$o" 1; else set -- "$@" "$o"; fi
    env ESC_CONF="$TMP/no-such.conf" timeout 10 "$@" </dev/null >/dev/null 2>&1
    rc=$?
    case $rc in 0 | 3) echo yes ;; 2) echo no ;; *) echo "exit $rc" ;; esac
}

# 1. every page exists and renders without a warning
for p in "${PAGES[@]}"; do
    f=$DOCS/$p
    if [ ! -f "$f" ]; then
        fail "docs_${p}_renders_cleanly" "$f does not exist"
        continue
    fi
    w=$({ LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" >/dev/null
          LC_ALL=C.UTF-8 groff -man -ww -z "$f"; } 2>&1)
    # every page carries the sections a reader looks for
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS FILES EXAMPLES "SEE ALSO"; do
        grep -q "^\.SH \"\?$s\"\?\$" "$f" || w="$w [no section $s]"
    done
    case $p in pam_esc.8 | esc-agent.8) grep -q '^\.SH SECURITY$' "$f" || w="$w [no section SECURITY]" ;; esac
    case $p in escctl.1 | esc-agent.8) grep -q '^\.SH "\?EXIT STATUS"\?$' "$f" || w="$w [no section EXIT STATUS]" ;; esac
    if [ -z "$w" ]; then pass "docs_${p}_renders_cleanly"; else fail "docs_${p}_renders_cleanly" "$(echo "$w" | head -n 5 | tr '\n' ' ')"; fi
done

# 2. escctl: commands, their options, exit codes
if [ -x "$BIN/escctl" ] && [ -f $DOCS/escctl.1 ]; then
    page=$(render $DOCS/escctl.1)
    cmds=$(section "$page" COMMANDS)
    mapfile -t commands < <("$BIN/escctl" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
    missing=
    [ ${#commands[@]} -gt 0 ] || missing=" (no command found in escctl --help)"
    for c in "${commands[@]}"; do
        grep -Eq "^       $c( |\$)" <<<"$cmds" || missing="$missing $c"
    done
    report "docs_escctl_1_has_every_command (${#commands[@]})" "$missing"
    missing=
    n=0
    global=$("$BIN/escctl" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
    for c in "${commands[@]}"; do
        for o in $("$BIN/escctl" help "$c" | grep -oE -- '--[a-z][a-z-]*' | sort -u) $global; do
            n=$((n + 1))
            grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" <<<"$page" || missing="$missing $c:$o"
        done
    done
    report "docs_escctl_1_has_every_option ($n)" "$(tr ' ' '\n' <<<"$missing" | sort -u | tr '\n' ' ' | sed 's/^ */ /;s/ *$//')"
    # every option each command's parser accepts is in its help (or the global usage) and the page
    mapfile -t popts < <(parser_options agent/escctl/escctl*.c agent/escctl/main_escctl.c | sort -u)
    usage=$("$BIN/escctl" --help)
    missing=
    n=0
    for c in "${commands[@]}"; do
        [ "$c" = help ] && continue
        if [ "$(accepts --no-such-option 0 "$BIN/escctl" "$c")" != no ] ||
            [ "$(accepts --json 0 "$BIN/escctl" "$c")" != yes ]; then
            missing="$missing $c:(cannot tell accepted options from refused ones)"
            continue
        fi
        h=$("$BIN/escctl" help "$c")
        for l in "${popts[@]}"; do
            set -- $l
            r=$(accepts "$1" "$2" "$BIN/escctl" "$c")
            case $r in
            no) continue ;;
            yes) ;;
            *) missing="$missing $c:$1($r)"; continue ;;
            esac
            n=$((n + 1))
            grep -qE -- "(^|[^a-z-])$1([^a-z-]|\$)" <<<"$h$usage" || missing="$missing help:$c:$1"
            grep -qE -- "(^|[^a-z-])$1([^a-z-]|\$)" <<<"$page" || missing="$missing escctl.1:$c:$1"
        done
    done
    # the global options main() compares are in the usage and the page
    for l in $(parser_options agent/escctl/escctl_globals.c | cut -d' ' -f1 | sort -u); do
        n=$((n + 1))
        grep -qE -- "(^|[^a-z-])$l([^a-z-]|\$)" <<<"$usage" || missing="$missing help:$l"
        grep -qE -- "(^|[^a-z-])$l([^a-z-]|\$)" <<<"$page" || missing="$missing escctl.1:$l"
    done
    report "docs_escctl_every_accepted_option_in_help_and_page ($n)" "$missing"
    exits=$(section "$page" "EXIT STATUS")
    mapfile -t codes < <(sed -n 's/^#define ESCCTL_EXIT_[A-Z_]* *\([0-9][0-9]*\).*/\1/p' agent/escctl/escctl.h agent/escctl/escctl_ops.h | sort -un)
    missing=
    [ ${#codes[@]} -gt 0 ] || missing=" (no ESCCTL_EXIT_ code found)"
    for c in "${codes[@]}"; do
        grep -Eq "^       $c( |\$)" <<<"$exits" || missing="$missing $c"
    done
    report "docs_escctl_1_has_every_exit_code (${#codes[@]})" "$missing"
else
    skip docs_escctl_1 "escctl not built or escctl.1 missing"
fi

# 3. esc.conf: the keys of the parser's table in common/conf.c
mapfile -t keys < <(awk '/keys\[[A-Z]*\] *= *\{/ { on = 1 } on { print } on && /\};/ { exit }' common/conf.c |
    grep -oE '"[a-z_]+"' | tr -d '"')
if [ ${#keys[@]} -lt 5 ]; then
    fail docs_esc_conf_5_has_every_key "cannot find the key table in common/conf.c (found ${#keys[@]})"
elif [ -f $DOCS/esc.conf.5 ]; then
    opts=$(section "$(render $DOCS/esc.conf.5)" OPTIONS)
    missing=
    for k in "${keys[@]}"; do grep -Eq "^       $k = " <<<"$opts" || missing="$missing $k"; done
    report "docs_esc_conf_5_has_every_key (${#keys[@]})" "$missing"
    extra=
    for k in $(sed -n 's/^       \([a-z_]*\) = .*/\1/p' <<<"$opts"); do
        printf '%s\n' "${keys[@]}" | grep -qx "$k" || extra="$extra $k"
    done
    report "docs_esc_conf_5_documents_no_unknown_key" "$extra"
    missing=
    for k in "${keys[@]}"; do grep -Eq "^#? *$k *=" config/esc.conf || missing="$missing $k"; done
    report "config_esc_conf_shows_every_key (${#keys[@]})" "$missing"
fi

# 4. pam_esc: the options pe_cfg.c compares arguments with, and the operation words
mapfile -t mopts < <(grep -oE 'str(n)?cmp\(a, "[^"]+"' pam_esc/pe_cfg.c | sed 's/.*"\(.*\)"/\1/')
mapfile -t words < <({ grep -oE '\{TPS_OP_[A-Z_]+, "[a-z]+"' common/ops.c | grep -oE '"[a-z]+"' | tr -d '"'
    echo none; })
if [ ${#mopts[@]} -lt 5 ]; then
    fail docs_pam_esc_8_has_every_option "cannot find the options in pam_esc/pe_cfg.c (found ${#mopts[@]})"
elif [ -f $DOCS/pam_esc.8 ]; then
    opts=$(section "$(render $DOCS/pam_esc.8)" OPTIONS)
    missing=
    for o in "${mopts[@]}"; do
        case $o in
        *=) grep -qF -- "$o" <<<"$opts" || missing="$missing $o" ;;
        *=*) grep -qF -- "$o" <<<"$opts" || missing="$missing $o" ;;
        *) grep -Eq "(^|[^a-z_])$o([^a-z_=]|\$)" <<<"$opts" || missing="$missing $o" ;;
        esac
    done
    for w in "${words[@]}"; do grep -qw -- "$w" <<<"$opts" || missing="$missing operations:$w"; done
    report "docs_pam_esc_8_has_every_option (${#mopts[@]} options, ${#words[@]} operations)" "$missing"
fi

# 5. esc-agent: the options of its usage line and the modes handoff_serve.c accepts
if [ -x "$BIN/esc-agent" ] && [ -f $DOCS/esc-agent.8 ]; then
    page=$(render $DOCS/esc-agent.8)
    mapfile -t aopts < <({ "$BIN/esc-agent" --help 2>&1
        grep -oE 'strcmp\(argv\[1\], "--[a-z-]+"' agent/handoff/handoff_serve.c; } | grep -oE -- '--[a-z][a-z-]*' | sort -u)
    missing=
    [ ${#aopts[@]} -gt 3 ] || missing=" (no option found in esc-agent --help)"
    for o in "${aopts[@]}"; do
        grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" <<<"$page" || missing="$missing $o"
    done
    report "docs_esc_agent_8_has_every_option (${#aopts[@]})" "$missing"
    # every option `esc-agent --op OP` accepts (escctl's operation parser, main_agent.c's own)
    # is in its usage and the page
    usage=$("$BIN/esc-agent" --help 2>&1)
    missing=
    n=0
    if [ "$(accepts --no-such-option 0 "$BIN/esc-agent" --op enroll)" != no ] ||
        [ "$(accepts --json 0 "$BIN/esc-agent" --op enroll)" != yes ]; then
        missing=" (cannot tell accepted options from refused ones)"
    else
        while read -r o a; do
            r=$(accepts "$o" "$a" "$BIN/esc-agent" --op enroll)
            [ "$r" = no ] && continue
            [ "$r" = yes ] || { missing="$missing $o($r)"; continue; }
            n=$((n + 1))
            grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" <<<"$usage" || missing="$missing usage:$o"
            grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" <<<"$page" || missing="$missing esc-agent.8:$o"
        done < <(parser_options agent/escctl/escctl_ops.c agent/main_agent.c | sort -u)
    fi
    report "docs_esc_agent_every_accepted_option_in_usage_and_page ($n)" "$missing"
else
    skip docs_esc_agent_8 "esc-agent not built or esc-agent.8 missing"
fi

# 6. pam-stacks.md: every file of config/pam.d and where it goes
missing=
for f in config/pam.d/*; do
    b=$(basename "$f")
    grep -qF "pam.d/$b\`" $DOCS/pam-stacks.md || missing="$missing $b"
done
report "docs_pam_stacks_md_places_every_stack" "$missing"
