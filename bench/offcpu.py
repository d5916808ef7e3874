#!/usr/bin/env python3
"""Off-CPU time of chosen processes' threads from a system-wide `perf` record of sched_switch.

    perf record -e sched:sched_switch -a -g -o offcpu.data -- sleep 10
    bench/offcpu.py offcpu.data PID [PID...]

For each thread of the given processes, every interval between being switched out and being
switched in again is off-CPU time, attributed to the thread, to why it left the CPU (prev_state:
`R` preempted while runnable, i.e. waiting for a core; `S` asleep, `D` uninterruptible, e.g.
waiting for the disk) and to the kernel and user frames it left from. Prints, per thread name,
the total off-CPU time by state and the stacks with the most time (milliseconds over the whole
record), and for the waits of state R the run-queue delay's count, median and maximum.

A tool for profiling by hand, not run by scripts/bench: `perf` is Debian's `linux-perf`, matched
to the running kernel, which the project's scripts do not install."""
import collections
import re
import statistics
import subprocess
import sys

SWITCH = re.compile(r"^\s*(?P<comm>.+?)\s+(?P<pid>\d+)/(?P<tid>\d+)\s+(?P<time>[\d.]+):\s+"
                    r"sched:sched_switch:.*prev_comm=(?P<name>.+?) prev_pid=(?P<prev>\d+).*"
                    r"prev_state=(?P<state>\S+) ==> .*next_pid=(?P<next>\d+)")
# Frames that say nothing about the reason (the scheduler itself, syscall entry).
NOISE = ("__schedule", "schedule", "entry_SYSCALL", "do_syscall_64", "[unknown]", "__x64_sys_",
         "schedule_timeout", "schedule_hrtimeout_range", "ret_from_fork")


def stack_key(frames):
    useful = [f for f in frames if not any(f.startswith(n) for n in NOISE)]
    return " <- ".join(useful[:5]) or "(no frames)"


def main():
    data, pids = sys.argv[1], {int(p) for p in sys.argv[2:]}
    names = {}  # tid -> thread name, learnt from the switches out of the processes' threads
    fields = "comm,pid,tid,time,event,trace,ip,sym"
    text = subprocess.run(["perf", "script", "-i", data, "-F", fields],
                          capture_output=True, text=True, check=True).stdout
    out_at = {}  # tid -> (time, state, stack)
    by_thread = collections.defaultdict(collections.Counter)  # name -> state -> seconds
    by_stack = collections.defaultdict(collections.Counter)   # name -> stack -> seconds
    runq = collections.defaultdict(list)                      # name -> R waits (seconds)
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        if not lines:
            continue
        match = SWITCH.match(lines[0])
        if not match:
            continue
        now = float(match["time"])
        frames = [line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else line
                  for line in (line.strip() for line in lines[1:])]
        prev, nxt = int(match["prev"]), int(match["next"])
        if int(match["pid"]) in pids:
            names[prev] = f"{match['pid']} {match['name']}"
        if prev in names:
            out_at[prev] = (now, match["state"][0], stack_key(frames))
        if nxt in names and nxt in out_at:
            since, state, stack = out_at.pop(nxt)
            name = names[nxt]
            by_thread[name][state] += now - since
            by_stack[name][f"[{state}] {stack}"] += now - since
            if state == "R":
                runq[name].append(now - since)
    for name in sorted(by_thread, key=lambda n: -sum(by_thread[n].values())):
        states = ", ".join(f"{s} {t * 1e3:.0f} ms" for s, t in by_thread[name].most_common())
        print(f"{name}: {states}")
        if runq[name]:
            waits = runq[name]
            print(f"  run-queue waits: {len(waits)}, "
                  f"median {statistics.median(waits) * 1e3:.3f} ms, max {max(waits) * 1e3:.2f} ms")
        for stack, seconds in by_stack[name].most_common(4):
            print(f"  {seconds * 1e3:9.1f} ms  {stack}")


if __name__ == "__main__":
    main()
