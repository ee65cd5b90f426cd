#!/usr/bin/env bash
# A one-node Slurm cluster for tests: munged, slurmctld and slurmd started as root without
# systemd, configured in a folder of their own, talking over 127.0.0.1 only.
#
#   scripts/slurm_cluster.sh start DIR   writes DIR/slurm.conf, starts the daemons, waits until the
#                                        node is idle, prints the line to source: export SLURM_CONF=...
#   scripts/slurm_cluster.sh stop DIR    stops the daemons it started there (by PID, DIR/pids)
#   scripts/slurm_cluster.sh check       exits 0 when a cluster can be started here, else says why
#
# Needs Debian's slurmctld slurmd slurm-client munge (.ci/run installs them) and root.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR | check" >&2; exit 64; }

# Root and the four packages' programs; says what is missing and exits 69 (64 for root) otherwise.
check() {
    [ "$(id -u)" = 0 ] || { echo "$0: the cluster's daemons run as root (SlurmUser=root); run as root" >&2; exit 64; }
    for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
        command -v "$tool" >/dev/null || { echo "$0: $tool not found: apt-get install slurmctld slurmd slurm-client munge (make slurm-deps)" >&2; exit 69; }
    done
}

if [ "${1:-}" = check ] && [ $# -eq 1 ]; then check; exit 0; fi
[ $# -eq 2 ] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

stop() {
    [ -f "$dir/pids" ] || return 0
    # Reverse start order: slurmd, slurmctld, munged.
    for pid in $(tac "$dir/pids"); do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    rm -f "$dir/pids"
}

free_port() {
    local p
    for _ in $(seq 100); do
        p=$(( 20000 + RANDOM % 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    echo "no free port found" >&2; exit 70
}

case $action in
stop) stop; exit 0 ;;
start) ;;
*) usage ;;
esac

check
[ ! -f "$dir/pids" ] || { echo "$0: $dir already has a cluster (stop it first)" >&2; exit 64; }
trap 'stop' ERR

mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 755 "$dir" "$dir/munge"
key=$dir/munge/munge.key
if [ -r /etc/munge/munge.key ]; then cp /etc/munge/munge.key "$key"; else head -c 1024 /dev/urandom > "$key"; fi
chmod 400 "$key"
: > "$dir/pids"
munged --foreground --force --key-file="$key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" > "$dir/munge/munged.out" 2>&1 &
echo $! >> "$dir/pids"
for _ in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done

node=alaverify-ci
cat > "$dir/slurm.conf" <<EOF
ClusterName=alaverify
SlurmctldHost=$(hostname)(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
CommunicationParameters=NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$(hostname) CPUs=$(nproc) State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf
slurmctld -D -c -f "$SLURM_CONF" > "$dir/slurmctld.out" 2>&1 &
echo $! >> "$dir/pids"
slurmd -D -f "$SLURM_CONF" -N "$node" > "$dir/slurmd.out" 2>&1 &
echo $! >> "$dir/pids"
for _ in $(seq 100); do
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.1
done
[ "$state" = idle ] || { echo "$0: the node did not become idle (state '$state'); logs in $dir" >&2; false; }
trap - ERR
echo "export SLURM_CONF=$SLURM_CONF"
