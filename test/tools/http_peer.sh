# test/tools/http_peer.sh -- start test/tools/http_peer.py (sourced by
# test/lib.sh and test/demo.sh).
#
# http_peer <name>: start the local HTTP and HTTPS peer (test/tools/http_peer.py,
# 127.0.0.1) with a fresh test CA; sets CERTS (ca.pem there), P and PS (the
# ports), U and US (the base URLs) and PEER_PID (the caller kills it on EXIT)
http_peer() {
    CERTS=$FI_TMP/$1_certs
    mkdir -p "$CERTS"
    rm -f "$FI_TMP/$1_ports"	# (a stale one from an earlier run would name a dead port)
    $FI_PY "$FI_ROOT/test/tools/http_peer.py" certs "$CERTS"
    chmod 644 "$CERTS"/*.pem
    $FI_PY "$FI_ROOT/test/tools/http_peer.py" serve "$FI_TMP/$1_ports" "$CERTS" &
    PEER_PID=$!
    for _ in $(seq 50); do [ -s "$FI_TMP/$1_ports" ] && break; sleep 0.1; done
    read -r P PS < "$FI_TMP/$1_ports"
    U=http://127.0.0.1:$P
    US=https://127.0.0.1:$PS
}
