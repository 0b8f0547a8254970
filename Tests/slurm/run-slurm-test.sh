#!/usr/bin/env bash
# infbench on a real Slurm: starts a one-node cluster on this machine (munged,
# slurmctld and slurmd from Debian's munge and slurm-wlm, a slurm.conf generated
# into a temporary directory, ports chosen at random), plans a 3-job grid with
# tiny settings, submits it as a job array with the script `infbench plan --slurm`
# writes, waits, merges, and checks the merged result. Everything it starts is
# stopped on exit. Needs root (the daemons and their files); skips without it.
#   Tests/slurm/run-slurm-test.sh            (INFBENCH=path/to/infbench to pick the binary; KEEP=1 keeps the temp dir)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

skip() { echo "slurm test SKIPPED: $*"; exit 0; }
fail() { echo "slurm test FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "it needs root to run munged, slurmctld and slurmd (run it as root, as CI does)."
for tool in munged mungekey slurmctld slurmd sbatch sinfo squeue scancel jq; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install slurm-wlm munge jq)."
done

# A release build: the debug binary measures the same, ten times slower.
if [ -z "${INFBENCH:-}" ]; then
    swift build -c release --product infbench >/dev/null
    INFBENCH="$(swift build -c release --show-bin-path)/infbench"
fi
[ -x "$INFBENCH" ] || fail "no infbench binary at $INFBENCH"

T=$(mktemp -d /tmp/infbench-slurm.XXXXXX)
chmod 700 "$T"
PIDS=()
cleanup() {
    status=$?
    export SLURM_CONF="$T/slurm.conf"
    # Jobs first, then the daemons, each by the pid this script started.
    if [ -n "${JOBID:-}" ]; then scancel "$JOBID" 2>/dev/null || true; fi
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[$i]}" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ "$status" != 0 ]; then
        echo "--- logs (the test failed) ---" >&2
        for log in "$T"/*.log "$T"/results/logs/*.log; do [ -f "$log" ] && { echo "== $log" >&2; tail -n 25 "$log" >&2; }; done
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- munge: its own key, socket and files -------------------------------------------------------
mungekey --create --keyfile "$T/munge.key" --force >/dev/null 2>&1 || dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 2>/dev/null
chmod 600 "$T/munge.key"
munged --foreground --force --key-file="$T/munge.key" --socket="$T/munge.socket" --pid-file="$T/munged.pid" \
       --log-file="$T/munged.log" --seed-file="$T/munged.seed" >"$T/munged.out.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/munge.socket" ] && break; sleep 0.1; done
[ -S "$T/munge.socket" ] || fail "munged did not start (see $T/munged.log)"

# --- slurm.conf: one node (this machine), one partition -----------------------------------------
NODE=$(hostname -s)
CPUS=$(nproc)
MEM=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
PORT=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$T/state" "$T/spool"
cat >"$T/slurm.conf" <<EOF
ClusterName=infbenchtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
AuthInfo=socket=$T/munge.socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MaxArraySize=1001
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=infbench Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >"$T/slurmctld.out.log" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$T/slurmd.out.log" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 120); do
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || fail "node $NODE is not idle after 60 s (state: '${state:-no answer}')"
echo "slurm: one-node cluster up ($NODE, $CPUS CPUs, port $PORT)"

# --- plan, submit, wait -------------------------------------------------------------------------
TINY=(--batch 1 --threads 1 --seq-len 8 --min-time 0.02 --min-runs 5 --max-warmup-runs 3 --max-warmup-time 0.2
      --min-warmup-time 0 --roofline-size 64 --bootstrap-resamples 200)
"$INFBENCH" plan --model cnn-small,encoder-small,decoder-small "${TINY[@]}" --suite slurm-test \
    --output "$T/plan.json" --slurm "$T/infbench.sbatch" --results "$T/results" --max-running 2 --time-limit 00:15:00
grep -q -- '--exclusive' "$T/infbench.sbatch" || fail "the sbatch script does not ask for whole nodes"
grep -q -- '--array=0-2%2' "$T/infbench.sbatch" || fail "the sbatch script is not a 3-task array limited to 2 in flight"
JOBID=$(sbatch --parsable "$T/infbench.sbatch")
echo "slurm: submitted array job $JOBID"
for _ in $(seq 900); do
    [ -z "$(squeue -h -j "$JOBID" 2>/dev/null)" ] && break
    sleep 1
done
[ -z "$(squeue -h -j "$JOBID" 2>/dev/null)" ] || fail "array job $JOBID still running after 15 minutes"
logs=$(ls "$T"/results/logs/infbench-"${JOBID}"_*.log 2>/dev/null | wc -l)
[ "$logs" = 3 ] || fail "expected 3 task logs, found $logs"
echo "slurm: array job $JOBID done, 3 task logs"

# --- a rerun skips finished jobs; merge; check ---------------------------------------------------
"$INFBENCH" run --plan "$T/plan.json" --job 1 --results "$T/results" 2>"$T/rerun.log"
grep -q "already finished" "$T/rerun.log" || fail "a rerun of job 1 did not skip it: $(cat "$T/rerun.log")"
"$INFBENCH" merge "$T/results" --output "$T/merged.json" >"$T/merge.out.log"
M="$T/merged.json"
check() { jq -e "$1" "$M" >/dev/null || fail "merged result: $2 (jq: $1)"; }
check '.kind == "merge" and .schemaVersion == 2' "not a schema 2 result of kind merge"
check '.merge.plannedJobs == 3 and .merge.mergedResults == 3' "not 3 of 3 jobs merged"
check '.merge.missingJobs | length == 0' "jobs missing: $(jq -c '.merge.missingJobs' "$M")"
check '.merge.hosts | length == 1' "not one host"
check "(.merge.hosts[0].hostname == \"$(hostname)\") and (.merge.hosts[0].roofline | length == 1)" "the host or its roofline"
check '[.rows[].model] | unique == ["cnn-small", "decoder-small", "encoder-small"]' "the models"
check '(.rows | length == 6) and all(.rows[]; .host != null and (.samplesNs | length >= 5))' "6 rows, each with its host and samples"
check '(.merge.speedups | length == 3) and all(.merge.speedups[]; .variant == "fp32 A/A" and .hosts == 1 and .ratio > 0 and .low <= .ratio and .ratio <= .high)' "an A/A speed-up per model"
"$INFBENCH" show "$M" >"$T/show.log"
grep -q "Missing or failed jobs: none" "$T/show.log" || fail "show does not print the merged result"
echo "slurm: merged $(jq '.merge.mergedResults' "$M") job results from $(jq -r '.merge.hosts[0].hostname' "$M"):"
jq -r '.merge.speedups[] | "  \(.model) \(.variant): \(.ratio * 1000 | round / 1000)× [\(.low * 1000 | round / 1000)–\(.high * 1000 | round / 1000)]"' "$M"
echo "slurm test PASSED"
