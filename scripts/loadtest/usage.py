"""What a server's process group spent, read from the kernel's own accounting (/proc), so the
figure holds on a machine other jobs keep busy: CPU time (per-thread schedstat, in ns; the tick
counts of /proc/PID/stat where schedstat is missing), minor+major page faults, write syscalls
(syscw: write, writev, sendmsg alike). Plus the busy share of each core (/proc/stat)."""
import os

TICK_NS = 1e9 / os.sysconf("SC_CLK_TCK")


def _group_pids(pgid):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(rest[2]) == pgid:  # field 5, pgrp
            pids.append(int(d))
    return pids


def _cpu_ns(pid, stat_fields):
    total, found = 0, False
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                    total += int(f.read().split()[0])
                    found = True
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    if found and total > 0:
        return total
    return (int(stat_fields[11]) + int(stat_fields[12])) * TICK_NS  # utime + stime


def sample(pgid):
    """{cpu_ns, faults, syscw} summed over every live process of the group."""
    s = {"cpu_ns": 0.0, "faults": 0, "syscw": 0}
    for pid in _group_pids(pgid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            s["cpu_ns"] += _cpu_ns(pid, fields)
            s["faults"] += int(fields[7]) + int(fields[9])  # minflt, majflt
            with open("/proc/%d/io" % pid) as f:
                for line in f:
                    if line.startswith("syscw:"):
                        s["syscw"] += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            pass  # a helper that exited between listing and reading
    return s


def cores():
    """{core: (busy jiffies, total jiffies)} from /proc/stat (steal counts as busy: the core was
    not ours)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *v = line.split()
                v = list(map(int, v[:8]))
                idle = v[3] + v[4]
                out[int(name[3:])] = (sum(v) - idle, sum(v))
    return out


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


def core_busy(after, before, core):
    b = after[core][0] - before[core][0]
    t = after[core][1] - before[core][1]
    return b / t if t else 0.0
