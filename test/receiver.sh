# test/receiver.sh -- helpers for the tests that deliver to test/receiver.py (sourced).
#
#   free_port                      a free TCP port on 127.0.0.1
#   receiver_start <port> <log> [secret]
#                                  test/receiver.py in the background, waited
#                                  for until it listens (5 s at most); sets RPID
#   wait_for <seconds> <command...>
#                                  run the command every 50 ms until it prints
#                                  1; false when the time is up

free_port() { "$FI_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

receiver_start() {
    local out=$2.out
    "$FI_PY" "$FI_ROOT/test/receiver.py" "$@" > "$out" 2>&1 &
    RPID=$!
    local i
    for i in $(seq 50); do grep -q listening "$out" 2>/dev/null && return 0; sleep 0.1; done
    echo "test/receiver.py did not start: $(cat "$out")" >&2
    return 1
}

wait_for() {
    local end=$((SECONDS + $1)); shift
    while [ $SECONDS -lt $end ]; do [ "$("$@" 2>/dev/null)" = 1 ] && return 0; sleep 0.05; done
    return 1
}
