#!/usr/bin/env bash
# Starts a single-node Slurm (slurmctld + slurmd, with munge) on this machine, for the
# end-to-end Slurm test. Needs root and Debian's slurm-wlm and munge (tools/setup.sh installs
# them). Idempotent: a running cluster that answers sinfo is left as it is. Exit 0 when
# `sinfo` shows the node idle; otherwise prints why on stderr and exits 1.
set -u
command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null ||
  { echo "slurm-wlm or munge is not installed" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "starting Slurm needs root" >&2; exit 1; }

if sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed|alloc'; then exit 0; fi

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2/1024) - 512}' /proc/meminfo)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /etc/munge /var/lib/munge /var/log/munge

# munge: a key, then the daemon (as root: no munge user needed in containers).
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chmod 400 /etc/munge/munge.key
if ! munge -n >/dev/null 2>&1; then
  munged --force --key-file=/etc/munge/munge.key 2>/dev/null || { echo "munged did not start" >&2; exit 1; }
fi

cat > /etc/slurm/slurm.conf <<CONF
ClusterName=gda-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
rm -f /etc/slurm/cgroup.conf  # the default (autodetect); proctrack/linuxproc and task/none use no cgroups

pgrep -x slurmctld >/dev/null || slurmctld -c 2>/dev/null || { echo "slurmctld did not start (see /var/log/slurm/slurmctld.log)" >&2; exit 1; }
pgrep -x slurmd >/dev/null || slurmd -c 2>/dev/null || { echo "slurmd did not start (see /var/log/slurm/slurmd.log)" >&2; exit 1; }

for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed|alloc'; then exit 0; fi
  scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
  sleep 1
done
echo "the Slurm node did not become idle: $(sinfo -h 2>&1 | head -3)" >&2
tail -5 /var/log/slurm/slurmd.log /var/log/slurm/slurmctld.log >&2 2>/dev/null
exit 1
