#!/usr/bin/env bash
# The container image built and run for real, offline, with podman (no Docker engine here):
# a debian:bookworm-slim base made from Debian's archive with mmdebstrap, docker/Dockerfile
# built on it, the image run against a php-fpm process that shares the application
# directory (mounted at the same path, as a shared volume), then: a static file and PHP
# pages through it, the HEALTHCHECK, a non-root process, the image under 100 MB, and
# SIGWINCH (the image's STOPSIGNAL) with a request in flight: the request completes and the
# container exits 0.
#
# The base image is cached in podman's own store (root: /var/lib/containers/storage) under
# the name the Dockerfile pulls, docker.io/library/debian:bookworm-slim, labelled with the
# hash of the recipe that made it (org.portico.base); a changed recipe makes it again.
# podman's layer cache keeps the build stage's packages while scripts/packages is unchanged.
# Usage: test_container.sh SOURCE_DIR (ctest passes it; label "container").
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
t_start=$(date +%s)
say() { printf '[%4ss] %s\n' "$(( $(date +%s) - t_start ))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

for tool in podman mmdebstrap /usr/sbin/runc php-fpm8.2 curl; do
    command -v "$tool" >/dev/null || fail "$tool is missing (scripts/setup installs it)"
done
[ "$(id -u)" -eq 0 ] || fail "podman here runs rootful: run as root"

work=$(mktemp -d /tmp/portico-container.XXXXXX)
chmod 755 "$work"
ctr=portico-test-$$
image=localhost/portico-test:$$
fpm_pid=""
curl_pid=""
cleanup() {
    set +e
    [ -n "$curl_pid" ] && kill "$curl_pid" 2>/dev/null
    podman rm -f -t 0 "$ctr" >/dev/null 2>&1
    podman rmi -f "$image" >/dev/null 2>&1
    if [ -n "$fpm_pid" ]; then kill -QUIT "$fpm_pid" 2>/dev/null; wait "$fpm_pid" 2>/dev/null; fi
    rm -rf "$work"
}
trap cleanup EXIT

# podman's settings for these machines (no systemd cgroup manager, no ulimit changes).
printf '[engine]\ncgroup_manager = "cgroupfs"\n[containers]\ndefault_ulimits = []\n' \
    >"$work/containers.conf"
export CONTAINERS_CONF=$work/containers.conf
P=(--runtime /usr/sbin/runc)

# ---- The base image: minbase, without docs, man pages and locales, and without the apt
# lists (the builds fetch their own), as the official slim image; merged /usr by the hook
# rather than the usrmerge package (which would pull in perl).
base=docker.io/library/debian:bookworm-slim
mm_args=(--variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
         --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
         --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
         --dpkgopt='path-exclude=/usr/share/info/*'
         --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin'
         bookworm)
recipe=$(printf '%s\n' "${mm_args[@]}" | sha256sum | cut -c1-16)
have=$(podman image inspect --format '{{index .Config.Labels "org.portico.base"}}' "$base" 2>/dev/null || true)
if [ "$have" != "$recipe" ]; then
    say "base image: mmdebstrap (recipe $recipe; cached: ${have:-none})"
    mmdebstrap -q "${mm_args[@]}" "$work/rootfs.tar" http://deb.debian.org/debian \
        || fail "mmdebstrap failed"
    podman import --change "LABEL org.portico.base=$recipe" --change 'CMD ["bash"]' \
        "$work/rootfs.tar" "$base" >/dev/null || fail "podman import failed"
    rm -f "$work/rootfs.tar"
else
    say "base image: cached ($recipe)"
fi

# ---- The image.
say "podman build"
podman build "${P[@]}" --pull=never --network=host --format docker -q \
    -f "$src/docker/Dockerfile" -t "$image" "$src" >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; fail "podman build failed"; }
say "built"
size=$(podman image inspect --format '{{.Size}}' "$image")
say "image size: $((size / 1000000)) MB"
[ "$size" -lt 100000000 ] || fail "the image is $size bytes, over 100 MB"
user=$(podman image inspect --format '{{.Config.User}}' "$image")
[ "$user" = "10001:10001" ] || fail "image user is '$user', not 10001:10001"
stopsig=$(podman image inspect --format '{{.Config.StopSignal}}' "$image")
[ "$stopsig" = "SIGWINCH" ] || fail "STOPSIGNAL is '$stopsig'"

# ---- php-fpm on the host, TCP on loopback; the application at the same path on both sides.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
app=$work/app
mkdir -p "$app"
cp "$src"/docker/app/* "$app"/
chmod -R a+rX "$app"
fpm_port=$(free_port)
{
    echo "[global]"; echo "error_log = $work/fpm.log"; echo "daemonize = no"
    echo "[app]"; echo "listen = 127.0.0.1:$fpm_port"; echo "pm = static"; echo "pm.max_children = 3"
    echo "user = www-data"; echo "group = www-data"
} >"$work/fpm.conf"
php-fpm8.2 --nodaemonize --fpm-config "$work/fpm.conf" &
fpm_pid=$!

# ---- The container: host network (podman's own needs netavark and iptables), so the
# ports are free high ones (an unprivileged process cannot bind 80 in the host's namespace).
port=$(free_port)
podman run "${P[@]}" -d --name "$ctr" --network=host \
    -e HTTP_PORT="$port" -e DOCUMENT_ROOT="$app" -e PHP_FPM="fcgi://127.0.0.1:$fpm_port" \
    -e START_SERVERS=1 -e GRACEFUL_SHUTDOWN_TIMEOUT=30 \
    -v "$app:$app:ro" "$image" >/dev/null || fail "podman run failed"
url=http://127.0.0.1:$port
deadline=$(( $(date +%s) + 30 ))
until curl -fs -o /dev/null "$url/healthz"; do
    [ "$(date +%s)" -lt "$deadline" ] || { podman logs "$ctr" | tail; fail "not ready in 30 s"; }
    podman container exists "$ctr" && [ "$(podman inspect --format '{{.State.Running}}' "$ctr")" = true ] \
        || { podman logs "$ctr" | tail; fail "the container exited"; }
    sleep 0.2
done
say "serving on $url"

expect() { # path needle
    body=$(curl -fsS "$url$1") || fail "GET $1 failed"
    case $body in *"$2"*) ;; *) fail "GET $1: no '$2' in: $body" ;; esac
}
expect /static.txt "static file served by portico"
expect /index.php "hello from php"
expect /index.php "script=$app/index.php"
expect /shop/cart "uri=/shop/cart"          # the front controller (FallbackResource)
expect /healthz "ok"

pid=$(podman inspect --format '{{.State.Pid}}' "$ctr")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
[ "$uid" = 10001 ] || fail "the server runs as uid $uid"
for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    cuid=$(awk '/^Uid:/ { print $2 }' "/proc/$child/status")
    [ "$cuid" = 10001 ] || fail "child $child runs as uid $cuid"
done
podman healthcheck run "$ctr" >/dev/null || fail "the image's HEALTHCHECK fails"
say "static, PHP, front controller, health, uid 10001, HEALTHCHECK: ok"

# ---- SIGWINCH with a request in flight: it completes, then the container exits 0.
curl -fsS -o "$work/inflight.txt" "$url/index.php?sleep=2" &
curl_pid=$!
deadline=$(( $(date +%s) + 10 ))
until curl -fs "$url/server-status" | grep -q 'GET /index.php?sleep=2'; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "the slow request never showed in server-status"
    sleep 0.05
done
podman kill --signal WINCH "$ctr" >/dev/null
wait "$curl_pid" || fail "the request in flight failed after SIGWINCH"
curl_pid=""
grep -q slept "$work/inflight.txt" || fail "the request in flight was cut: $(cat "$work/inflight.txt")"
code=$(timeout 40 podman wait "$ctr") || fail "the container did not exit after SIGWINCH"
[ "$code" = 0 ] || { podman logs "$ctr" | tail; fail "the container exited $code"; }
if podman logs "$ctr" 2>&1 | grep -E '\[[a-z_]+:(error|crit|alert|emerg)\]'; then
    fail "error lines in the container's log"
fi
say "SIGWINCH: the request in flight completed, exit 0"
say "PASS"
