#!/usr/bin/env bash
# Private one-node Slurm cluster on localhost for integration tests.
#
#   tests/slurm/cluster.sh start DIR   # wipe DIR, write configs, start munged,
#                                      # slurmctld, slurmd; wait for the node to
#                                      # be idle; print `export SLURM_CONF=...`
#   tests/slurm/cluster.sh stop DIR    # cancel all jobs, stop the daemons
#   tests/slurm/cluster.sh install     # apt-get the Slurm/munge packages if missing
#
# Typical use:
#   eval "$(tests/slurm/cluster.sh start /tmp/slurmtest)"
#   ... sbatch / squeue / scancel ...
#   tests/slurm/cluster.sh stop /tmp/slurmtest
#
# Everything (key, socket, state, spool, logs, pid files) lives inside DIR so the
# cluster never touches /etc/slurm, /etc/munge or a system munged/slurmd.
# `start` prints exactly one line on stdout (the export) so it can be eval'ed;
# all diagnostics go to stderr.
#
# Environment overrides (optional):
#   SLURM_TEST_CTLD_PORT    slurmctld port (default 6817)
#   SLURM_TEST_SLURMD_PORT  slurmd port    (default 6818)
#   SLURM_TEST_START_TIMEOUT seconds to wait for the node to become idle (60)
#
# Written for Slurm 22.05 / munge 0.5.x on Debian 12, run as root (slurmd must
# be root to launch jobs, and SlurmUser=root keeps file ownership trivial).

set -euo pipefail

CLUSTER_NAME=fuzzaugtest
NODE=localhost
CTLD_PORT=${SLURM_TEST_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_TEST_SLURMD_PORT:-6818}
START_TIMEOUT=${SLURM_TEST_START_TIMEOUT:-60}
# Marker placed in the environment of every daemon we start. slurmstepd (and
# anything else slurmd forks for itself) inherits it, which lets `stop` verify a
# PID from a pid file really is ours (PID reuse) and find stray slurmstepd
# processes of *this* cluster without matching on process names.
MARKER_VAR=FUZZAUG_SLURM_TEST_CLUSTER
# File that marks DIR as created by this script, so `start` never rm -rf's a
# directory that holds someone else's data.
OWNER_FILE=.fuzzaug-slurm-cluster

log() { printf 'cluster.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: cluster.sh start DIR | stop DIR | install
EOF
    exit 2
}

# Slurm rejects relative paths in slurm.conf and splits values on whitespace,
# so normalise DIR to an absolute path and refuse anything awkward up front.
resolve_dir() {
    local d=$1
    [[ -n $d ]] || die "DIR must not be empty"
    d=$(realpath -m -- "$d")
    case $d in
        / | /tmp | /root | /home | /usr | /etc | /var | "$HOME")
            die "refusing to use $d as cluster directory" ;;
    esac
    [[ $d =~ ^[A-Za-z0-9_./+-]+$ ]] ||
        die "cluster directory '$d' must only contain [A-Za-z0-9_./+-] (slurm.conf cannot quote paths)"
    printf '%s\n' "$d"
}

# ---------------------------------------------------------------- install ----

cmd_install() {
    local missing=0 b
    for b in sbatch slurmctld slurmd munged; do
        # slurmctld/slurmd/munged live in /usr/sbin, which is not on PATH for
        # every non-root user, so check there explicitly.
        if ! command -v "$b" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$b ]]; then
            log "missing: $b"
            missing=1
        fi
    done
    if ((missing == 0)); then
        log "slurm and munge already installed"
        return 0
    fi
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "not root and sudo not available"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" apt-get install -y slurmctld slurmd slurm-client munge >&2
}

# ------------------------------------------------------------ process utils --

# True if PID is alive and carries our marker for DIR in its environment.
is_ours() {
    local pid=$1 dir=$2
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/environ ]] || return 1
    # -z: environ is NUL-separated; reading the file directly (no pipe) keeps
    # `grep -q` exiting early from tripping pipefail.
    grep -qzxF -- "$MARKER_VAR=$dir" "/proc/$pid/environ" 2>/dev/null
}

alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
    [[ -n $state && $state != Z ]] # zombies are as good as gone
}

# SIGTERM all given PIDs, wait up to 10 s for all of them, then SIGKILL the
# rest. One shared deadline so many stragglers cannot add up to minutes.
terminate_pids() {
    local what=$1 pid i left
    shift
    (($# > 0)) || return 0
    kill -TERM "$@" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        left=()
        for pid in "$@"; do alive "$pid" && left+=("$pid"); done
        ((${#left[@]} == 0)) && { log "stopped $what (pid $*)"; return 0; }
        sleep 0.1
    done
    log "$what (pid ${left[*]}) ignored SIGTERM for 10 s, sending SIGKILL"
    kill -KILL "${left[@]}" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        left=()
        for pid in "$@"; do alive "$pid" && left+=("$pid"); done
        ((${#left[@]} == 0)) && return 0
        sleep 0.1
    done
    log "warning: pid ${left[*]} survived SIGKILL"
}

# All descendants of the given PIDs (children, grandchildren, ...), from the
# ppid field of /proc/*/stat. Collected *before* killing, since orphans get
# reparented to init and can no longer be traced back.
descendants() {
    local -A parent_of=()
    local p pid stat ppid
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        stat=$(cat "$p/stat" 2>/dev/null) || continue
        stat=${stat##*) } # comm may contain spaces/parens; fields after it are safe
        ppid=${stat#* }
        ppid=${ppid%% *}
        parent_of[$pid]=$ppid
    done
    local -a queue=("$@") out=()
    local cur
    while ((${#queue[@]} > 0)); do
        cur=${queue[0]}
        queue=("${queue[@]:1}")
        for pid in "${!parent_of[@]}"; do
            if [[ ${parent_of[$pid]} == "$cur" ]]; then
                out+=("$pid")
                queue+=("$pid")
            fi
        done
    done
    ((${#out[@]} == 0)) || printf '%s\n' "${out[@]}"
}

# Stop the daemon recorded in PIDFILE, but only if the PID still belongs to us.
stop_pidfile() {
    local pidfile=$1 what=$2 dir=$3 pid
    [[ -f $pidfile ]] || return 0
    pid=$(tr -dc '0-9' <"$pidfile" || true)
    if [[ -n $pid ]] && is_ours "$pid" "$dir"; then
        terminate_pids "$what" "$pid"
    elif [[ -n $pid ]]; then
        log "$what pid $pid from $pidfile is not running (or not ours); skipping"
    fi
    rm -f "$pidfile"
}

# PIDs (other than ours) still carrying the marker: normally slurmstepd of jobs
# that outlived slurmd. Killing slurmd does not kill them.
marker_pids() {
    local dir=$1 p pid
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        is_ours "$pid" "$dir" && printf '%s\n' "$pid"
    done
    return 0
}

# ------------------------------------------------------------------- stop ----

cmd_stop() {
    local dir
    dir=$(resolve_dir "$1")
    if [[ ! -f $dir/slurm.conf ]]; then
        log "no cluster config in $dir; nothing to stop"
        # Still sweep: a half-started cluster may have a munged without slurm.conf.
    fi
    export SLURM_CONF=$dir/slurm.conf

    local ctld_pid=""
    [[ -f $dir/run/slurmctld.pid ]] && ctld_pid=$(tr -dc '0-9' <"$dir/run/slurmctld.pid" || true)
    local slurmd_pid=""
    [[ -f $dir/run/slurmd.pid ]] && slurmd_pid=$(tr -dc '0-9' <"$dir/run/slurmd.pid" || true)
    if [[ -f $dir/slurm.conf && -n $ctld_pid ]] && is_ours "$ctld_pid" "$dir"; then
        # Cancel every job (any user) so slurmstepd cleans up the job processes
        # itself; killing slurmd alone would orphan them.
        local ids
        ids=$(timeout 10 squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ' || true)
        if [[ -n ${ids// /} ]]; then
            log "cancelling jobs: $ids"
            # shellcheck disable=SC2086
            timeout 10 scancel --full $ids >/dev/null 2>&1 || true
            # Wait (bounded) until no job is still running or completing, so
            # their processes are gone before slurmd goes away. KillWait in
            # slurm.conf bounds how long a TERM-ignoring job can take.
            # Pointless without a live slurmd (the stray sweep below handles
            # that case).
            local i left
            if is_ours "$slurmd_pid" "$dir"; then
                for ((i = 0; i < 30; i++)); do
                    left=$(timeout 5 squeue -h -t RUNNING,COMPLETING,SUSPENDED,CONFIGURING -o '%A' 2>/dev/null | wc -l || echo 0)
                    ((left == 0)) && break
                    sleep 0.5
                done
            fi
        fi
    fi

    # Reverse start order: slurmd first (so it does not try to re-register),
    # then the controller, then munged which both of them need until the end.
    stop_pidfile "$dir/run/slurmd.pid" slurmd "$dir"
    stop_pidfile "$dir/run/slurmctld.pid" slurmctld "$dir"

    # Anything else still carrying the marker is a leftover: normally a
    # slurmstepd whose slurmd died (killing slurmd never kills its steps), or a
    # daemon whose pid file went missing. A stray slurmstepd ignores SIGTERM
    # and its job processes would be orphaned, so take the whole subtree down.
    local munge_pid="" pid
    local -a stray=() victims=()
    [[ -f $dir/munge/munged.pid ]] && munge_pid=$(tr -dc '0-9' <"$dir/munge/munged.pid" || true)
    while read -r pid; do
        [[ -n $pid && $pid != "$munge_pid" ]] && stray+=("$pid")
    done < <(marker_pids "$dir")
    if ((${#stray[@]} > 0)); then
        for pid in "${stray[@]}"; do
            log "stray process of this cluster: $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true))"
        done
        mapfile -t victims < <(descendants "${stray[@]}")
        # Job processes first (they may trap TERM and clean up), then the
        # stepds themselves straight with SIGKILL (they ignore TERM).
        terminate_pids "job processes of stray slurmstepd" "${victims[@]}"
        kill -KILL "${stray[@]}" 2>/dev/null || true
    fi

    stop_pidfile "$dir/munge/munged.pid" munged "$dir"
    # munged refuses to start if a stale socket is still bound/locked.
    rm -f "$dir/munge/munge.socket.2" "$dir/munge/munge.socket.2.lock"
    return 0
}

# ------------------------------------------------------------------ start ----

write_configs() {
    local dir=$1 cpus mem_total_mb real_mem
    cpus=$(nproc)
    # RealMemory above what slurmd detects drains the node ("Low RealMemory"),
    # so advertise 90% of MemTotal, leaving headroom for cgroup/container skew.
    mem_total_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    real_mem=$((mem_total_mb * 9 / 10))
    ((real_mem >= 1)) || real_mem=1

    cat >"$dir/slurm.conf" <<EOF
# Generated by tests/slurm/cluster.sh -- private single-node test cluster.
ClusterName=$CLUSTER_NAME
SlurmctldHost=$NODE
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT

# Root runs everything: no service account, no file ownership juggling.
SlurmUser=root
SlurmdUser=root

# Private munged (see $dir/munge); clients and daemons all use this socket.
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket.2
CredType=cred/munge

# No cgroups: works in containers without a writable cgroup hierarchy.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
# Per-CPU allocation: each 1-CPU job/array task gets its own slot.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU

# No slurmdbd / accounting.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none

# Start jobs immediately; keep finished job records visible (scontrol show job)
# for an hour so tests can inspect final states and exit codes.
SchedulerParameters=batch_sched_delay=0
MinJobAge=3600
# A node that went DOWN (e.g. slurmd restart) comes back on its own.
ReturnToService=2
# Seconds between SIGTERM and SIGKILL on cancel/timeout; short so stop is quick.
KillWait=10
# Do not fail on missing /usr/bin/mail.
MailProg=/bin/true

StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# Keep the (system-wide) plugstack config in /etc/slurm out of the test cluster.
PlugStackConfig=$dir/plugstack.conf

NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    : >"$dir/plugstack.conf"
}

start_munged() {
    local dir=$1 i
    # Own key so a system munged (different key) can never validate our creds.
    ( umask 077 && dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none )
    chmod 0400 "$dir/munge/munge.key"
    # munged checks the socket dir is not group/world writable.
    chmod 0755 "$dir/munge"
    # -f: munged is strict about ownership/permissions of every parent of the
    # key/socket/log paths (e.g. a DIR under a group-writable tree); we accept
    # that risk for a throwaway test cluster.
    env "$MARKER_VAR=$dir" munged -f \
        --socket="$dir/munge/munge.socket.2" \
        --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" \
        --seed-file="$dir/munge/munged.seed" \
        </dev/null >>"$dir/log/munged.out" 2>&1 ||
        die "munged failed to start"
    for ((i = 0; i < 50; i++)); do
        if [[ -S $dir/munge/munge.socket.2 ]] &&
            munge -n -S "$dir/munge/munge.socket.2" 2>/dev/null |
            unmunge -S "$dir/munge/munge.socket.2" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    die "munged did not answer on $dir/munge/munge.socket.2"
}

# True if something already accepts TCP connections on 127.0.0.1:PORT. A second
# cluster on the same ports would make our clients talk to the *other*
# controller (auth fails with a different munge key) and only time out.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Fail fast instead of waiting the whole timeout when a daemon already died.
daemon_dead() {
    local pidfile=$1 dir=$2 pid
    [[ -f $pidfile ]] || return 1 # not written yet (or never): caller decides
    pid=$(tr -dc '0-9' <"$pidfile" || true)
    ! is_ours "$pid" "$dir"
}

show_logs() {
    local dir=$1 f
    for f in "$dir"/munge/munged.log "$dir"/log/*; do
        [[ -f $f ]] || continue
        printf '===== %s =====\n' "$f" >&2
        tail -n 60 "$f" >&2 || true
    done
}

node_state() {
    timeout 5 sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n1 || true
}

cmd_start() {
    local dir
    dir=$(resolve_dir "$1")

    ((EUID == 0)) || die "start must run as root (slurmd launches jobs as root)"
    local b
    for b in munged munge unmunge slurmctld slurmd sinfo scontrol; do
        command -v "$b" >/dev/null 2>&1 || [[ -x /usr/sbin/$b ]] ||
            die "$b not found; run: $0 install"
    done
    PATH=$PATH:/usr/sbin

    # Never rm -rf a directory we did not create (or that is not empty).
    if [[ -e $dir ]]; then
        if [[ -e $dir/$OWNER_FILE ]]; then
            # A previous cluster may still be running in DIR: stop it first,
            # otherwise its daemons keep the ports and pid files.
            cmd_stop "$dir"
        elif [[ -n $(ls -A -- "$dir" 2>/dev/null) ]]; then
            die "$dir exists, is not empty and was not created by this script; refusing to wipe it"
        fi
        rm -rf -- "$dir"
    fi
    # slurmd expects its spool dir to exist (else it logs a "Domain socket
    # directory" error before creating it).
    mkdir -p "$dir"/{munge,state,spool/slurmd,run,log}
    chmod 0755 "$dir" "$dir/munge"
    : >"$dir/$OWNER_FILE"

    export SLURM_CONF=$dir/slurm.conf
    write_configs "$dir"

    # On any failure from here on, show the logs and leave nothing running.
    trap 'rc=$?; if ((rc != 0)); then show_logs "'"$dir"'"; cmd_stop "'"$dir"'" || true; fi' EXIT

    local port
    for port in "$CTLD_PORT" "$SLURMD_PORT"; do
        port_in_use "$port" &&
            die "port $port is already in use (another slurmctld/slurmd?); set SLURM_TEST_CTLD_PORT/SLURM_TEST_SLURMD_PORT"
    done

    local t0=$SECONDS
    start_munged "$dir"

    # -i: ignore (absent) state files; the directory is fresh anyway.
    # Daemons fork and write their own pid files; std streams go to files so a
    # caller doing $(cluster.sh start ...) is not kept waiting on the pipe.
    env "$MARKER_VAR=$dir" slurmctld -i -f "$dir/slurm.conf" \
        </dev/null >>"$dir/log/slurmctld.out" 2>&1 ||
        die "slurmctld failed to start"
    env "$MARKER_VAR=$dir" slurmd -N "$NODE" -f "$dir/slurm.conf" \
        </dev/null >>"$dir/log/slurmd.out" 2>&1 ||
        die "slurmd failed to start"

    local state="" resumed=0
    local d
    while ((SECONDS - t0 < START_TIMEOUT)); do
        for d in slurmctld slurmd; do
            if daemon_dead "$dir/run/$d.pid" "$dir" ||
                { ((SECONDS - t0 >= 10)) && [[ ! -f $dir/run/$d.pid ]]; }; then
                die "$d is not running (see its log below)"
            fi
        done
        state=$(node_state)
        case $state in
            idle)
                break ;;
            down* | drain* | drained* | fail*)
                # Can happen when slurmd registered before the controller
                # considered the node; ReturnToService=2 usually prevents it.
                if ((resumed == 0)); then
                    log "node is $state, resuming it"
                    timeout 5 scontrol update NodeName="$NODE" State=RESUME >&2 || true
                    resumed=1
                fi ;;
        esac
        sleep 0.5
    done
    if [[ $state != idle ]]; then
        log "node did not become idle within ${START_TIMEOUT}s (state: '${state:-unknown}')"
        timeout 5 sinfo -N -l >&2 || true
        timeout 5 scontrol show node "$NODE" >&2 || true
        exit 1
    fi
    trap - EXIT
    log "cluster up in $((SECONDS - t0))s (node $NODE idle, $(nproc) CPUs)"
    printf 'export SLURM_CONF=%s/slurm.conf\n' "$dir"
}

# ------------------------------------------------------------------- main ----

main() {
    (($# >= 1)) || usage
    case $1 in
        start) (($# == 2)) || usage; cmd_start "$2" ;;
        stop) (($# == 2)) || usage; PATH=$PATH:/usr/sbin; cmd_stop "$2" ;;
        install) (($# == 1)) || usage; cmd_install ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
