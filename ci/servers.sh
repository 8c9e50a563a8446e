#!/usr/bin/env bash
# The database servers the server-backed tests run against.
#
#   bash ci/servers.sh install   install redis-server and postgresql from the
#                                distribution's packages where missing (needs
#                                root or sudo)
#   bash ci/servers.sh start     for a developer: a Redis on 127.0.0.1:6390 (no
#                                persistence) and a PostgreSQL on 127.0.0.1:6432
#                                (trust auth), in throwaway directories; prints
#                                the REDIS_URL and POSTGRES_URL to export
#
# The tests themselves start throwaway servers on free loopback ports (see
# backends/*/tests/common); they need only the binaries. CI sets
# CONFORMANCE_REQUIRE_SERVERS=1, so a missing binary fails there instead of
# skipping.
set -euo pipefail

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1
}

install() {
    local missing=()
    command -v redis-server > /dev/null || missing+=(redis-server)
    [ -n "$(pg_bin)" ] || missing+=(postgresql)
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "installing ${missing[*]} (apt-get)"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q > /dev/null
        # The packages start system services where they can; the tests use their own ports.
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" > /dev/null
    fi
    echo "redis-server: $(redis-server --version | head -1)"
    echo "postgres: $("$(pg_bin)/postgres" --version)"
}

listening() {
    (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

start_postgres() {
    local url="host=127.0.0.1 port=6432 user=postgres dbname=postgres"
    if listening 6432; then
        echo "export POSTGRES_URL='$url'   # already running"
        return
    fi
    local dir run=()
    dir=$(mktemp -d)
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$dir"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$(pg_bin)/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 > /dev/null
    "${run[@]}" "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p 6432 -c listen_addresses=127.0.0.1 -k $dir" start > /dev/null
    echo "export POSTGRES_URL='$url'   # data in $dir; stop: ${run[*]} $(pg_bin)/pg_ctl -D $dir/data stop"
}

start() {
    install > /dev/null
    if listening 6390; then
        echo "export REDIS_URL=redis://127.0.0.1:6390/   # already running"
        start_postgres
        return
    fi
    local dir
    dir=$(mktemp -d)
    redis-server --port 6390 --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize yes \
        --logfile "$dir/redis.log"
    echo "export REDIS_URL=redis://127.0.0.1:6390/   # data in $dir; stop: redis-cli -p 6390 shutdown"
    start_postgres
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    *) echo "usage: bash ci/servers.sh install|start" >&2; exit 2 ;;
esac
