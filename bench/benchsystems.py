"""benchsystems: the file systems run-bench measures, and the probes it uses.

Each system is a class with setup / prepare / make_cold / after_run /
remove / teardown hooks (see bench/README.md, "Adding a system"). pagerfs
runs pagerfsd in the background and must never be touched by this process
directly: a hung daemon would leave the driver stuck in the kernel, so
every access to its mount is a child process with a timeout. Nothing here
may leave a mount or a daemon behind once teardown() has run.
"""
import datetime
import os
import subprocess
import time

MIB = 1 << 20


class BenchError(Exception):
    pass


def vmstat_drops():
    """drop_caches writes by anyone on the machine (ours included)."""
    with open("/proc/vmstat") as f:
        for line in f:
            if line.startswith("drop_pagecache "):
                return int(line.split()[1])
    return 0


def pressure_some_us(kind):
    """Total microseconds some task stalled on `kind` (cpu, io), or None."""
    try:
        with open(f"/proc/pressure/{kind}") as f:
            return int(f.readline().rsplit("total=", 1)[1])
    except (OSError, IndexError, ValueError):
        return None


def fuse_conn_abort(dev):
    """Abort a hung FUSE connection (the mount's device minor is its id)."""
    path = f"/sys/fs/fuse/connections/{os.minor(dev)}/abort"
    try:
        with open(path, "w") as f:
            f.write("1\n")
        return True
    except OSError:
        return False


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mnt = line.split()[4].replace("\\040", " ")
            if mnt == path:
                return True
    return False


def bdi_read_ahead_kb(dev):
    try:
        with open(f"/sys/class/bdi/{os.major(dev)}:{os.minor(dev)}/read_ahead_kb") as f:
            return int(f.read())
    except OSError:
        return None


class System:
    """One file system under test. Subclasses fill in the hooks."""
    name = "?"

    def __init__(self, bench):
        self.b = bench
        self.available = True
        self.note = ""
        self.broken = None      # sticky: why this system can no longer run

    def setup(self):
        """Create the files the workloads use (data: --size, dirty: --msync-size)."""

    def prepare(self, wl):
        """Bring caches to the state the workload wants, right before a run."""

    def after_run(self, wl, rec):
        """Undo per-run side effects; may add fields to the run record."""

    def teardown(self):
        """Undo setup; must be safe to call after a partial setup."""

    def path(self, kind):
        raise NotImplementedError

    def remove(self, kind):
        try:
            os.unlink(self.path(kind))
        except FileNotFoundError:
            pass


class Ext4System(System):
    name = "ext4"

    def setup(self):
        self.dir = os.path.join(self.b.scratch, "ext4")
        os.makedirs(self.dir, exist_ok=True)
        o = self.b.opts
        self.b.run(self.b.touch_cmd("setup", "--size", o.size, self.path("data")))
        self.b.run(self.b.touch_cmd("setup", "--size", o.msync_size, self.path("dirty")))
        self.gen = {"dirty": 0}

    def path(self, kind):
        return os.path.join(self.dir, kind)

    def prepare(self, wl):
        if wl["cold"]:
            self.b.drop_caches()

    def make_cold(self):
        self.b.drop_caches()

    def teardown(self):
        pass


class TmpfsSystem(System):
    """A private tmpfs. Its file is re-created after every drop_caches, which
    leaves tmpfs pages marked in a way that slows later fault-around."""
    name = "tmpfs"

    def setup(self):
        self.mnt = os.path.join(self.b.scratch, "tmpfs")
        os.makedirs(self.mnt, exist_ok=True)
        size = self.b.opts.size + 64 * MIB
        self.b.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700",
                    "pagerfs-bench", self.mnt])
        self.mounted = True
        self.created_at_drop = None
        self.gen = {"dirty": 0}

    def path(self, kind):
        return os.path.join(self.mnt, kind)

    def recreate(self):
        self.remove("data")
        self.b.run(self.b.touch_cmd("setup", "--size", self.b.opts.size, self.path("data")))
        self.created_at_drop = self.b.drops

    def prepare(self, wl):
        if wl["cold"]:
            self.b.drop_caches()
        if self.created_at_drop != self.b.drops:
            self.recreate()

    def teardown(self):
        if getattr(self, "mounted", False):
            self.b.run(["umount", self.mnt], check=False)
            self.mounted = False


class PagerfsSystem(System):
    """pagerfsd -f -o commit_interval=N[,OPTS] STORE MNT, run in the background.

    Cold = unmount (the daemon commits and exits), drop caches, mount again:
    the kernel's page cache for the objects is gone and every page must come
    from the swap store. Around each timed run the daemon's CPU time
    (utime+stime) and VmHWM are read from /proc for item 7."""
    name = "pagerfs"

    def __init__(self, bench):
        super().__init__(bench)
        o = bench.opts
        self.bin = os.path.abspath(o.pagerfsd)
        self.proc = None
        self.dev = None
        self.peak_hwm_kib = 0
        if not (os.path.isfile(self.bin) and os.access(self.bin, os.X_OK)):
            self.available = False
            self.note = f"pagerfsd not built: pagerfs column skipped ({o.pagerfsd} not found)"

    def setup(self):
        self.store = os.path.join(self.b.scratch, "pagerfs-store")
        self.mnt = os.path.join(self.b.scratch, "pagerfs-mnt")
        os.makedirs(self.mnt, exist_ok=True)
        self.daemon_log = os.path.join(self.b.opts.out, "pagerfsd.log")
        o = self.b.opts
        self.mount()
        self.b.run(self.b.touch_cmd("setup", "--via", "mmap", "--size", o.size, self.path("data")))
        self.b.run(self.b.touch_cmd("setup", "--via", "mmap", "--size", o.msync_size,
                                    self.path("dirty")))
        self.gen = {"dirty": 0}
        self.make_cold()
        for kind, want in (("data", o.size), ("dirty", o.msync_size)):
            got = self.fs_stat(self.path(kind))[0]
            if got != want:
                raise BenchError(f"pagerfs: {kind} object is {got} bytes after remount, "
                                 f"expected {want}")
        self.b.read_ahead_kb["pagerfs"] = bdi_read_ahead_kb(self.dev)

    def path(self, kind):
        return os.path.join(self.mnt, kind)

    # The driver never touches the mount itself: a hung daemon would leave
    # it stuck in the kernel, unkillable. Children with a timeout do.
    def fs_stat(self, path):
        """(size, st_dev) of a path on the mount."""
        out = self.b.run(["stat", "-c", "%s %d", path], timeout=self.b.opts.fs_timeout).stdout
        size, dev = out.split()
        return int(size), int(dev)

    def remove(self, kind):
        self.b.run(["rm", "-f", self.path(kind)], timeout=self.b.opts.fs_timeout)

    def options(self):
        o = self.b.opts
        opts = f"commit_interval={o.commit_interval}"
        return opts + ("," + o.pagerfs_opts if o.pagerfs_opts else "")

    def mount(self):
        cmd = [self.bin, "-f", "-o", self.options(), self.store, self.mnt]
        self.dev = None
        self.b.log.write("$ " + " ".join(cmd) + " &")
        logf = open(self.daemon_log, "a")
        logf.write(f"--- {datetime.datetime.now().isoformat()} {' '.join(cmd)}\n")
        logf.flush()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.monotonic() + self.b.opts.mount_timeout
        while not is_mounted(self.mnt):
            if self.proc.poll() is not None:
                raise BenchError(f"pagerfsd exited {self.proc.returncode} before mounting "
                                 f"(see {self.daemon_log}): {self.log_tail()}")
            if time.monotonic() > deadline:
                raise BenchError(f"pagerfsd did not mount {self.mnt} within "
                                 f"{self.b.opts.mount_timeout}s")
            time.sleep(0.02)
        self.dev = self.fs_stat(self.mnt)[1]

    def log_tail(self):
        try:
            with open(self.daemon_log) as f:
                return " | ".join(f.read().splitlines()[-5:])
        except OSError:
            return ""

    def unmount(self, force=False):
        """fusermount3 -u, then wait for the daemon to commit and exit 0."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.peak_hwm_kib = max(self.peak_hwm_kib, self.hwm_kib())
            except OSError:
                pass
        # never mounted (mount timed out): nothing to commit, do not wait long
        wait_s = self.b.opts.unmount_timeout if is_mounted(self.mnt) else 5
        for _ in range(10):
            if not is_mounted(self.mnt):
                break
            if self.b.run(["fusermount3", "-u", self.mnt], check=False).returncode == 0:
                break
            time.sleep(0.5)
        if is_mounted(self.mnt):
            self.b.log.say(f"pagerfs: {self.mnt} busy or hung; aborting the FUSE connection")
            if not (self.dev is not None and fuse_conn_abort(self.dev)):
                self.proc.kill()      # closing /dev/fuse aborts the connection too
            self.b.run(["umount", "-l", self.mnt], check=False)
        try:
            rc = self.proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            self.b.log.say("pagerfs: daemon still running after unmount; SIGTERM")
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        self.proc = None
        if rc != 0 and not force:
            raise BenchError(f"pagerfsd exited {rc} after unmount (expected 0; "
                             f"see {self.daemon_log}): {self.log_tail()}")

    def make_cold(self):
        self.unmount()
        self.b.drop_caches()
        self.mount()

    def prepare(self, wl):
        if wl["cold"]:
            self.make_cold()
        if self.proc is None or self.proc.poll() is not None:
            raise BenchError(f"pagerfsd is not running (see {self.daemon_log})")
        self.cpu0 = self.cpu_seconds()

    def after_run(self, wl, rec):
        if self.proc is None or self.proc.poll() is not None:
            raise BenchError(f"pagerfsd died during the run (see {self.daemon_log}): "
                             f"{self.log_tail()}")
        rec["daemon_cpu_s"] = self.cpu_seconds() - self.cpu0
        rec["daemon_hwm_kib"] = self.hwm_kib()
        self.peak_hwm_kib = max(self.peak_hwm_kib, rec["daemon_hwm_kib"])

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is stat field 3 (state); utime and stime are fields 14, 15
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def hwm_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def teardown(self):
        if self.proc is not None:
            try:
                self.unmount(force=True)
            except Exception as e:  # keep tearing down the rest
                self.b.log.say(f"pagerfs teardown: {e}")
        elif hasattr(self, "mnt") and is_mounted(self.mnt):
            self.b.run(["fusermount3", "-u", self.mnt], check=False)
