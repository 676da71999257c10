#!/usr/bin/env bash
# tests/packaging: `cmake --install` into a scratch prefix, the systemd units checked with
# `systemd-analyze verify`, each unit's ExecStart line run as systemd would run it (this machine's
# PID 1 is not systemd) with flag files written the way an operator writes them, the three
# daemons found answering on the ports those files name; then the .deb built with cpack and its
# contents, conffiles and dependencies checked.
#
#   MESOS_BUILD_DIR=build bash tests/packaging/test_packaging.sh
#
# Needs systemd-analyze (Debian package systemd), cpack (cmake), dpkg-deb and objdump.
set -euo pipefail

BUILD=${MESOS_BUILD_DIR:?set MESOS_BUILD_DIR to the build tree (ctest does)}
SCRATCH=$(mktemp -d /tmp/test_packaging.XXXXXX)
PREFIX=$SCRATCH/opt
PIDS=()
CHECKS=0

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    local log
    for log in "$SCRATCH"/*.log; do
        [ -f "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }
    done
    exit 1
}

ok() {
    CHECKS=$((CHECKS + 1))
    echo "ok $CHECKS - $*"
}

for tool in systemd-analyze cpack dpkg-deb objdump; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (systemd-analyze: apt-get install systemd)"
done

# http_get PORT PATH: the body of a GET on 127.0.0.1, through bash's /dev/tcp (no curl needed);
# fails unless the status is 200.
http_get() {
    local response
    # shellcheck disable=SC2016 # expanded by the inner bash
    response=$(timeout 5 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
        cat <&3' _ "$1" "$2" 2>/dev/null) || return 1
    case $response in "HTTP/1."?" 200"*) ;; *) return 1 ;; esac
    printf '%s' "${response#*$'\r\n\r\n'}"
}

# A port that is free, with its actor port (+10000) free too. Both stay below the kernel's
# ephemeral range (32768 and up), where outgoing connections would take them, and each call
# gives another one.
TAKEN=" "
free_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 2700))
        case $TAKEN in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
            ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null; then
            TAKEN="$TAKEN$p "
            echo "$p"
            return
        fi
    done
    fail "no free port"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# ---- cmake --install into a scratch prefix ------------------------------------------------------
cmake --install "$BUILD" --prefix "$PREFIX" >"$SCRATCH/install.log" 2>&1 || fail "cmake --install"
ok "cmake --install --prefix $PREFIX"

for f in bin/mesos-master bin/mesos-agent bin/mesos-executor bin/mesos-fetcher bin/marathon \
    bin/mesos-local bin/mesos-init-wrapper; do
    [ -x "$PREFIX/$f" ] || fail "$f is not installed"
done
[ "$(readlink "$PREFIX/bin/mesos-slave")" = mesos-agent ] || fail "bin/mesos-slave is not a link to mesos-agent"
UNITS=$PREFIX/lib/systemd/system
[ "$(readlink "$UNITS/mesos-slave.service")" = mesos-agent.service ] ||
    fail "mesos-slave.service is not a link to mesos-agent.service"
[ "$(cat "$PREFIX/etc/mesos-master/work_dir")" = "$PREFIX/var/lib/mesos" ] ||
    fail "etc/mesos-master/work_dir does not name $PREFIX/var/lib/mesos"
[ -d "$PREFIX/var/lib/mesos-agent" ] || fail "var/lib/mesos-agent was not made"
ok "binaries, mesos-slave links, units and flag files installed"

grep -qx "ExecStart=$PREFIX/bin/mesos-init-wrapper agent" "$UNITS/mesos-agent.service" ||
    fail "mesos-agent.service does not run the wrapper of this prefix"
grep -qx "KillMode=process" "$UNITS/mesos-agent.service" || fail "mesos-agent.service lacks KillMode=process"
grep -qx "Alias=mesos-slave.service" "$UNITS/mesos-agent.service" || fail "mesos-agent.service lacks its alias"
systemd-analyze verify "$UNITS/mesos-master.service" "$UNITS/mesos-agent.service" \
    "$UNITS/marathon.service" >"$SCRATCH/verify.log" 2>&1 || fail "systemd-analyze verify"
ok "systemd-analyze verify accepts the three units"

# ---- the flag files, as an operator writes them -----------------------------------------------
free_port >"$SCRATCH/port" && MASTER_PORT=$(cat "$SCRATCH/port")
free_port >"$SCRATCH/port" && AGENT_PORT=$(cat "$SCRATCH/port")
free_port >"$SCRATCH/port" && MARATHON_PORT=$(cat "$SCRATCH/port")
ETC=$PREFIX/etc
# The seed's file wins over the per-flag file: a wrong port there must not be used.
echo 1 >"$ETC/mesos-master/port"
printf -- '# as the seed writes it\n--port=%s\n--allocation_interval=100ms\n' "$MASTER_PORT" \
    >>"$ETC/mesos/master"
echo "$AGENT_PORT" >"$ETC/mesos-agent/port"
echo "127.0.0.1:$MASTER_PORT" >"$ETC/mesos-agent/master"
touch "$ETC/mesos-agent/?no-switch_user"
mkdir -p "$ETC/mesos-agent/resources" "$ETC/mesos-agent/attributes"
echo 2 >"$ETC/mesos-agent/resources/cpus"
echo 512 >"$ETC/mesos-agent/resources/mem"
echo 1000 >"$ETC/mesos-agent/resources/disk"
echo '[31000-31009]' >"$ETC/mesos-agent/resources/ports"
echo r1 >"$ETC/mesos-agent/attributes/rack"
echo "127.0.0.1:$MASTER_PORT" >"$ETC/marathon/master"
echo "PORT=$MARATHON_PORT" >>"$ETC/default/marathon"

# ---- each unit's ExecStart, run as the unit would run it ---------------------------------------
for unit in mesos-master mesos-agent marathon; do
    cmdline=$(sed -n 's/^ExecStart=//p' "$UNITS/$unit.service")
    [ -n "$cmdline" ] || fail "$unit.service has no ExecStart"
    # systemd splits ExecStart on spaces; these lines have no quotes to honour.
    read -r -a argv <<<"$cmdline"
    "${argv[@]}" </dev/null >"$SCRATCH/$unit.log" 2>&1 &
    PIDS+=($!)
done

wait_for 20 http_get "$MASTER_PORT" /health >/dev/null || fail "the master does not answer /health"
wait_for 20 http_get "$AGENT_PORT" /health >/dev/null || fail "the agent does not answer /health"
wait_for 20 http_get "$MARATHON_PORT" /ping >/dev/null || fail "Marathon does not answer /ping"
ok "mesos-master, mesos-agent and marathon answer on the ports of their flag files"

registered() {
    local snapshot
    snapshot=$(http_get "$MASTER_PORT" /metrics/snapshot) || return 1
    [[ $snapshot == *'"master/slaves_active":1.0'* && $snapshot == *'"master/frameworks_active":1.0'* ]]
}
wait_for 20 registered || fail "the agent and Marathon did not register with the master"
ok "the agent and Marathon registered with the master their flag files name"

flags=$(http_get "$AGENT_PORT" /flags) || fail "agent /flags"
[[ $flags == *'"switch_user":"false"'* ]] || fail "?no-switch_user did not reach the agent: $flags"
[[ $flags == *'"attributes":"rack:r1"'* ]] || fail "attributes/ did not reach the agent: $flags"
[[ $flags == *'"resources":"cpus:2;disk:1000;mem:512;ports:[31000-31009]"'* ]] ||
    fail "resources/ did not reach the agent: $flags"
flags=$(http_get "$MASTER_PORT" /flags) || fail "master /flags"
[[ $flags == *"\"work_dir\":\"$PREFIX/var/lib/mesos\""* ]] || fail "the master's work_dir: $flags"
[[ $flags == *'"allocation_interval":"100ms"'* ]] || fail "etc/mesos/master was not read: $flags"
ok "boolean, attribute and resource files and the seed's etc/mesos/master reach the daemons"

for pid in "${PIDS[@]}"; do
    kill -TERM "$pid"
    wait "$pid" || true
done
PIDS=()
ok "the daemons stop on SIGTERM"

# Bad configuration: a one-line reason and status 1, before any daemon starts.
WRAPPER=$PREFIX/bin/mesos-init-wrapper
help=$("$WRAPPER" --help) || fail "mesos-init-wrapper --help exited $?"
[[ $help == *"one file per flag"* ]] || fail "mesos-init-wrapper --help: $help"
if out=$("$WRAPPER" mesos 2>&1); then fail "an unknown role was accepted"; fi
[[ $out == *"unknown role 'mesos'"* ]] || fail "unknown role: $out"
echo "work_dir=/tmp" >>"$ETC/mesos/master"
if out=$("$WRAPPER" master 2>&1); then fail "a line without -- was accepted"; fi
[[ $out == *"etc/mesos/master:"*": expected --flag=value, got 'work_dir=/tmp'"* ]] ||
    fail "bad line: $out"
ok "mesos-init-wrapper refuses an unknown role and a malformed etc/mesos/master line"

# ---- the .deb -------------------------------------------------------------------------------------
cpack --config "$BUILD/CPackConfig.cmake" -B "$SCRATCH/deb" >"$SCRATCH/cpack.log" 2>&1 || fail "cpack"
DEB=$(ls "$SCRATCH"/deb/mesos_*.deb)
info=$(dpkg-deb -I "$DEB")
[[ $info == *"Package: mesos"* ]] || fail "the package is not named mesos"
contents=$(dpkg-deb -c "$DEB")
for path in ./usr/bin/mesos-master ./usr/bin/mesos-agent ./usr/bin/mesos-executor \
    ./usr/bin/mesos-fetcher ./usr/bin/marathon ./usr/bin/mesos-init-wrapper \
    ./usr/lib/systemd/system/mesos-master.service ./usr/lib/systemd/system/mesos-agent.service \
    ./usr/lib/systemd/system/marathon.service ./etc/mesos-master/work_dir \
    ./etc/mesos-agent/work_dir ./etc/mesos-agent/master ./etc/marathon/master ./etc/mesos/master; do
    grep -q " $path\$" <<<"$contents" || fail "the package lacks $path"
done
grep -q " ./usr/bin/mesos-slave -> mesos-agent\$" <<<"$contents" || fail "the package lacks mesos-slave"
grep -q " ./usr/lib/systemd/system/mesos-slave.service -> mesos-agent.service\$" <<<"$contents" ||
    fail "the package lacks mesos-slave.service"
ok "the .deb holds the binaries, the units and the default flag files"

ROOT=$SCRATCH/root
dpkg-deb -x "$DEB" "$ROOT"
dpkg-deb -e "$DEB" "$SCRATCH/control"
for conf in /etc/mesos-master/work_dir /etc/mesos-agent/master /etc/marathon/work_dir; do
    grep -qx "$conf" "$SCRATCH/control/conffiles" || fail "$conf is not a conffile"
done
[ -x "$SCRATCH/control/postinst" ] || fail "the package has no postinst"
[ "$(cat "$ROOT/etc/mesos-master/work_dir")" = /var/lib/mesos ] || fail "/etc/mesos-master/work_dir"
grep -qx "ETC='/etc'" "$ROOT/usr/bin/mesos-init-wrapper" || fail "the packaged wrapper does not read /etc"
grep -qx "ExecStart=/usr/bin/mesos-init-wrapper master" "$ROOT/usr/lib/systemd/system/mesos-master.service" ||
    fail "the packaged mesos-master.service does not run /usr/bin/mesos-init-wrapper"
# systemd-analyze wants ExecStart's program to exist: point the packaged units at the extracted
# tree (systemd-analyze --root would want a whole systemd installation there).
mkdir -p "$SCRATCH/units"
for unit in mesos-master mesos-agent marathon; do
    sed "s|^ExecStart=/usr/bin/|ExecStart=$ROOT/usr/bin/|" "$ROOT/usr/lib/systemd/system/$unit.service" \
        >"$SCRATCH/units/$unit.service"
done
systemd-analyze verify "$SCRATCH"/units/*.service >"$SCRATCH/verify.log" 2>&1 ||
    fail "systemd-analyze verify of the packaged units"
ok "conffiles, maintainer scripts and the packaged units (/usr/bin, /etc) are right"

# Every shared library a packaged binary loads comes from a package Depends names.
depends=$(sed -n 's/^ Depends: //p' <<<"$info" | tr -d ' ')
arch_dir=$(dirname "$(ldd "$ROOT/usr/bin/mesos-master" | awk '$1 == "libc.so.6" {print $3}')")
for bin in "$ROOT"/usr/bin/*; do
    [ -L "$bin" ] && continue
    head -c 4 "$bin" | grep -q ELF || continue
    for soname in $(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}'); do
        pkg=$(dpkg -S "$arch_dir/$soname" 2>/dev/null || dpkg -S "/usr$arch_dir/$soname" 2>/dev/null ||
            dpkg -S "*/$soname" 2>/dev/null | grep -v i386 | head -1 || true)
        pkg=${pkg%%:*}
        [ -n "$pkg" ] || fail "no Debian package holds $soname, which ${bin##*/} needs"
        [[ ",$depends," == *",$pkg,"* ]] || fail "${bin##*/} needs $soname from $pkg, which Depends ($depends) lacks"
    done
done
ok "Depends ($depends) covers every library the binaries load"
echo "all $CHECKS checks passed"
