# shellcheck shell=bash
# Progress for long builds (sourced by toolchain/build.sh and cluster/build.sh): a step counter
# with elapsed time on stderr, and the tools' own output (pages of `go: downloading`) in a log
# file (appended, one header per run), whose tail is printed when a step fails. Defines functions and PROGRESS_* variables only.
#
#   progress_init PREFIX TOTAL LOGFILE
#   progress_step NAME CMD...     runs CMD with its output in the log; a line every
#                                 PROGRESS_TICK seconds (default 60) while it runs
#   progress_reuse NAME DETAIL    counts a step whose result is already cached
#   progress_say TEXT...          one line with the prefix and the elapsed time

progress_init() {
    PROGRESS_PREFIX=$1
    PROGRESS_TOTAL=$2
    PROGRESS_LOG=$3
    PROGRESS_N=0
    PROGRESS_T0=$SECONDS
    PROGRESS_TICKER=""
    # a step that exits the script (a `die` inside it) must not leave its ticker running: the ticker
    # holds our stderr, and a caller reading it would wait for ever
    trap progress_stop_ticker EXIT
    mkdir -p "$(dirname "$PROGRESS_LOG")"
    printf '\n##### %s: %s\n' "$PROGRESS_PREFIX" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$PROGRESS_LOG"
}

progress_stop_ticker() {
    if [[ -n ${PROGRESS_TICKER:-} ]]; then
        kill "$PROGRESS_TICKER" 2>/dev/null || true
        wait "$PROGRESS_TICKER" 2>/dev/null || true
        PROGRESS_TICKER=""
    fi
}

progress_clock() { # seconds -> 3m07s
    printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

progress_say() {
    printf '[%s +%s] %s\n' "$PROGRESS_PREFIX" "$(progress_clock $((SECONDS - PROGRESS_T0)))" "$*" >&2
}

progress_reuse() {
    PROGRESS_N=$((PROGRESS_N + 1))
    progress_say "step $PROGRESS_N/$PROGRESS_TOTAL: $1: $2"
}

progress_step() {
    local name=$1 t0=$SECONDS rc=0
    shift
    PROGRESS_N=$((PROGRESS_N + 1))
    local label="step $PROGRESS_N/$PROGRESS_TOTAL: $name"
    progress_say "$label: building (output in $PROGRESS_LOG)"
    printf '\n### %s: %s\n' "$label" "$*" >>"$PROGRESS_LOG"
    # The ticker and its sleep must hold neither our stdout/stderr (killing the ticker leaves the
    # sleep running, and a caller reading those pipes would wait for it) nor the build locks on fds
    # 8 and 9 (the next build would wait up to a tick for a lock nobody uses).
    (
        while sleep "${PROGRESS_TICK:-60}" </dev/null >/dev/null 2>&1; do
            progress_say "$label: still building, $(progress_clock $((SECONDS - t0))) so far," \
                "$(grep -c '^go: downloading' "$PROGRESS_LOG" || true) modules downloaded in all"
        done
    ) 8>&- 9>&- &
    PROGRESS_TICKER=$!
    "$@" >>"$PROGRESS_LOG" 2>&1 || rc=$?
    progress_stop_ticker
    if ((rc != 0)); then
        progress_say "$label: FAILED (exit $rc) after $(progress_clock $((SECONDS - t0))); last lines of $PROGRESS_LOG:"
        tail -n 40 "$PROGRESS_LOG" | sed 's/^/    /' >&2
        return "$rc"
    fi
    progress_say "$label: done in $(progress_clock $((SECONDS - t0)))"
}
