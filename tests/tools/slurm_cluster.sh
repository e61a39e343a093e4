#!/usr/bin/env bash
# A one-node Slurm cluster for the tests (../shared/howto/local-services.md), on loopback ports above
# 16800, its state in DIR:
#   slurm_cluster.sh start DIR   starts munged (if not running), slurmctld and slurmd; waits until the
#                                node is idle; prints the SLURM_CONF to use
#   slurm_cluster.sh stop DIR    stops what start started
# Needs root (munged --force, slurmd) and Debian's slurm-wlm and munge (scripts/setup installs them).
set -euo pipefail
action="$1"
dir="$(realpath -m "$2")"
conf="$dir/slurm.conf"
case "$action" in
  start)
    for p in slurmctld slurmd munged sbatch; do
      command -v "$p" >/dev/null || { echo "error: $p is not installed (scripts/setup installs slurm-wlm and munge)" >&2; exit 1; }
    done
    mkdir -p "$dir/state" "$dir/spool"
    host="$(hostname -s)"
    cat >"$conf" <<CONF
ClusterName=oqtest
SlurmctldHost=$host
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmUser=root
NodeName=$host CPUs=$(nproc) RealMemory=4000 State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    if ! (munge -n | unmunge) >/dev/null 2>&1; then
      mkdir -p /run/munge
      chown munge:munge /run/munge 2>/dev/null || true
      munged --force >/dev/null 2>&1 || { echo "error: munged did not start" >&2; exit 1; }
      (munge -n | unmunge) >/dev/null 2>&1 || { echo "error: munge credentials do not work" >&2; exit 1; }
    fi
    export SLURM_CONF="$conf"
    slurmctld -f "$conf" || { echo "error: slurmctld did not start (see $dir/slurmctld.log)" >&2; exit 1; }
    slurmd -f "$conf" || { echo "error: slurmd did not start (see $dir/slurmd.log)" >&2; exit 1; }
    for _ in $(seq 60); do
      if sinfo -h -o '%T' 2>/dev/null | grep -q idle; then
        echo "$conf"
        exit 0
      fi
      sleep 1
    done
    echo "error: the Slurm node did not become idle within 60 s (see $dir/slurmctld.log, $dir/slurmd.log)" >&2
    exit 1
    ;;
  stop)
    for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
      [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    sleep 1
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
