#!/usr/bin/env bash
# The database servers the server-backed tests run against.
#
#   bash ci/servers.sh install   install redis-server from the distribution's
#                                packages if it is missing (needs root or sudo)
#   bash ci/servers.sh start     for a developer: a Redis on 127.0.0.1:6390,
#                                no persistence, in a throwaway directory;
#                                prints the REDIS_URL to export
#
# The tests themselves start throwaway servers on free loopback ports (see
# backends/redis-cache/tests/common); they need only the binaries. CI sets
# CONFORMANCE_REQUIRE_SERVERS=1, so a missing binary fails there instead of
# skipping.
set -euo pipefail

install() {
    if command -v redis-server > /dev/null; then
        echo "redis-server: $(redis-server --version | head -1)"
        return
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing redis-server (apt-get)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q > /dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server > /dev/null
    # The package starts a system service on 6379 where it can; the tests use their own ports.
    redis-server --version | head -1
}

start() {
    install
    local dir
    dir=$(mktemp -d)
    redis-server --port 6390 --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize yes \
        --logfile "$dir/redis.log"
    echo "export REDIS_URL=redis://127.0.0.1:6390/   # data in $dir; stop: redis-cli -p 6390 shutdown"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    *) echo "usage: bash ci/servers.sh install|start" >&2; exit 2 ;;
esac
