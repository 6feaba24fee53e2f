# Shared by the demo and the results scripts (source it; needs $bin = the sliceguard binary).
#
# start_server PREFIX ARGS...: runs `sliceguard server ARGS... --listen 127.0.0.1:0` in the background, output
# in PREFIX.log / PREFIX.err; sets $server_pid and, once it listens, $port. Fails with the server's error.
start_server() {
  local prefix=$1
  shift
  "$bin" server "$@" --listen 127.0.0.1:0 > "$prefix.log" 2> "$prefix.err" &
  server_pid=$!
  port=
  for _ in $(seq 1 240); do
    port=$(sed -n 's/^server: listening on port \([0-9]*\).*/\1/p' "$prefix.log")
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.5
  done
  cat "$prefix.err" >&2
  return 1
}

# stop_server: stops the server start_server started (if any).
stop_server() {
  if [ -n "${server_pid:-}" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
trap stop_server EXIT
