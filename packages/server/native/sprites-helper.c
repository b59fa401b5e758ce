/*
 * sprites-helper: the few host operations Node cannot do itself.
 *
 *   sprites-helper idmap SRC DST HOST_ID COUNT
 *       Attach an idmapped clone of the mount at SRC onto DST, mapping ids 0..COUNT-1 as
 *       seen through DST onto HOST_ID..HOST_ID+COUNT-1. util-linux 2.38 cannot do this
 *       (no X-mount.idmap), and the OCI runtimes in Debian 12 do not map mounts either.
 *
 *   sprites-helper listen [-l LOG] SOCKET -- PROGRAM ARGS...
 *       Bind and listen on a unix socket at SOCKET, then exec PROGRAM with the listening
 *       socket as fd 3. The daemon hands the agent its socket this way, so the socket file
 *       lives in a host directory the sprite can neither see nor replace. With -l, PROGRAM's
 *       stdout and stderr (and so the container's) go through a pipe to a logger process
 *       that keeps a bounded head and tail of them in LOG.
 *
 *   sprites-helper quota-enable MOUNTPOINT
 *       Turn on btrfs quotas, preferring simple quotas (kernel >= 6.7), which account only
 *       the extents a subvolume writes itself and cost far less than full qgroups on every
 *       snapshot and first write. Prints "simple" or "full". btrfs-progs 6.2 cannot do this.
 *
 *   sprites-helper snapshot [-r] [-g GROUP] [-f FREEZE_FILE] SRC DST_DIR NAME
 *       Snapshot the subvolume SRC as DST_DIR/NAME (-r: read-only; -g: into the level-1
 *       quota group 1/GROUP). With -f (a cgroup v1 freezer.state or v2 cgroup.freeze file),
 *       the sprite's processes are frozen around the snapshot after a first syncfs, and SRC
 *       synced again while frozen: a consistent checkpoint in one process, without the three
 *       CLI calls it otherwise takes.
 *
 *   sprites-helper hide-unified -- PROGRAM ARGS...
 *       Enter a private mount namespace, detach /sys/fs/cgroup/unified there, exec PROGRAM.
 *       crun 1.8 refuses hybrid cgroup hosts while that hierarchy is visible.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

struct mount_attr_v0 {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

static int fail(const char *what) {
  fprintf(stderr, "sprites-helper: %s: %s\n", what, strerror(errno));
  return 1;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A user namespace whose only purpose is to carry the mapping; its holder process exits. */
static int make_userns(unsigned long host_id, unsigned long count) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    char c;
    close(ready[1]);
    if (unshare(CLONE_NEWUSER) < 0) _exit(1);
    /* Wait until the parent has opened our namespace, then leave. */
    if (read(ready[0], &c, 1) < 0) _exit(1);
    _exit(0);
  }
  close(ready[0]);
  char path[64], map[96];
  int fd = -1;
  snprintf(map, sizeof map, "0 %lu %lu\n", host_id, count);
  /* The child may not have unshared yet; retry until its namespace differs from ours. */
  for (int i = 0; i < 1000; i++) {
    struct stat mine, theirs;
    snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
    if (stat("/proc/self/ns/user", &mine) == 0 && stat(path, &theirs) == 0 && mine.st_ino != theirs.st_ino) break;
    usleep(200);
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  if (write_file(path, map) < 0) goto out;
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  if (write_file(path, map) < 0) goto out;
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
out:;
  int saved = errno;
  (void)!write(ready[1], "x", 1);
  close(ready[1]);
  waitpid(pid, NULL, 0);
  errno = saved;
  return fd;
}

static int cmd_idmap(int argc, char **argv) {
  // `-r` makes the mount read-only in the same call (checkpoint views).
  uint64_t extra = 0;
  if (argc >= 3 && strcmp(argv[2], "-r") == 0) {
    extra = MOUNT_ATTR_RDONLY;
    argv++;
    argc--;
  }
  if (argc != 6) {
    fprintf(stderr, "usage: sprites-helper idmap [-r] SRC DST HOST_ID COUNT\n");
    return 2;
  }
  unsigned long host_id = strtoul(argv[4], NULL, 10), count = strtoul(argv[5], NULL, 10);
  if (count == 0) { fprintf(stderr, "sprites-helper: COUNT must be positive\n"); return 2; }
  int userns = make_userns(host_id, count);
  if (userns < 0) return fail("user namespace for the mapping");
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, argv[2], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) return fail("open_tree");
  struct mount_attr_v0 attr = {.attr_set = MOUNT_ATTR_IDMAP | extra, .userns_fd = (uint64_t)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) return fail("mount_setattr(MOUNT_ATTR_IDMAP)");
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, argv[3], MOVE_MOUNT_F_EMPTY_PATH) < 0) return fail("move_mount");
  return 0;
}

/* What a sprite's console log keeps: the first CONSOLE_HEAD bytes as they come, and the
 * last CONSOLE_TAIL bytes, written when the container's output ends. Keep the numbers in
 * step with docs/operations.md ("Bounds and deadlines"). */
#define CONSOLE_HEAD (1 << 20)
#define CONSOLE_TAIL (64 << 10)

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

/*
 * The console logger: reads the container's stdout and stderr from a pipe until every
 * writer is gone, keeps a bounded head and tail in LOG_FD, and discards the middle. A
 * sprite writing to /proc/1/fd/1 without end costs it a memcpy, never the host's disk.
 */
static void console_logger(int in, int log_fd) {
  static char buf[65536], tail[CONSOLE_TAIL];
  size_t kept = 0, tail_len = 0, tail_pos = 0;
  unsigned long long dropped = 0;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t off = 0;
    if (kept < CONSOLE_HEAD) {
      off = (size_t)n < CONSOLE_HEAD - kept ? (size_t)n : CONSOLE_HEAD - kept;
      write_all(log_fd, buf, off);
      kept += off;
    }
    for (size_t i = off; i < (size_t)n; i++) {
      /* Bytes falling out of the tail ring are the ones dropped. */
      if (tail_len == CONSOLE_TAIL) dropped++;
      else tail_len++;
      tail[tail_pos] = buf[i];
      tail_pos = (tail_pos + 1) % CONSOLE_TAIL;
    }
  }
  if (dropped > 0) {
    char note[160];
    int len = snprintf(note, sizeof note, "\n[sprites: %llu bytes of console output not kept; the last %zu bytes follow]\n", dropped, tail_len);
    write_all(log_fd, note, (size_t)len);
  }
  size_t start = tail_len == CONSOLE_TAIL ? tail_pos : 0;
  write_all(log_fd, tail + start, tail_len - start);
  write_all(log_fd, tail, start);
}

/*
 * Makes fds 1 and 2 the write end of a pipe read by a console logger process writing LOG
 * (the previous boot's log is kept as LOG.1). The logger outlives this process: it ends when
 * the container's last process closes its stdout and stderr.
 */
static int start_console_logger(const char *log) {
  char previous[4096];
  struct stat st;
  if (snprintf(previous, sizeof previous, "%s.1", log) >= (int)sizeof previous) { errno = ENAMETOOLONG; return -1; }
  if (stat(log, &st) == 0 && st.st_size > 0 && rename(log, previous) < 0) return -1;
  int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return -1;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    /* Its own session, deaf to the signals a terminal or a process group would get. */
    setsid();
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (dup2(p[0], 0) < 0 || dup2(log_fd, 1) < 0) _exit(1);
    /* Nothing else stays open here: not the write end (or it would never see the end), not
     * the agent's socket, not the daemon's pipes (the daemon waits for them to close). */
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0 && null != 2) dup2(null, 2);
    syscall(SYS_close_range, 3, ~0U, 0);
    console_logger(0, 1);
    _exit(0);
  }
  close(p[0]);
  close(log_fd);
  if (dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0) return -1;
  close(p[1]);
  return 0;
}

static int cmd_listen(int argc, char **argv) {
  const char *log = NULL;
  if (argc >= 4 && strcmp(argv[2], "-l") == 0) {
    log = argv[3];
    argv += 2;
    argc -= 2;
  }
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: sprites-helper listen [-l LOG] SOCKET -- PROGRAM ARGS...\n");
    return 2;
  }
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(argv[2]) >= sizeof addr.sun_path) { fprintf(stderr, "sprites-helper: socket path too long\n"); return 2; }
  strcpy(addr.sun_path, argv[2]);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return fail("socket");
  unlink(argv[2]);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return fail("bind");
  if (chmod(argv[2], 0600) < 0) return fail("chmod socket");
  if (listen(fd, 128) < 0) return fail("listen");
  if (fd != 3) {
    if (dup2(fd, 3) < 0) return fail("dup2");
    close(fd);
  }
  /* Last: from here on this process's stdout and stderr are the console pipe. */
  if (log && start_console_logger(log) < 0) return fail("console log");
  execvp(argv[4], argv + 4);
  return fail(argv[4]);
}

struct btrfs_quota_ctl_args {
  uint64_t cmd;
  uint64_t status;
};
#define BTRFS_IOC_QUOTA_CTL _IOWR(0x94, 40, struct btrfs_quota_ctl_args)
#define BTRFS_QUOTA_CTL_ENABLE 1
#define BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA 4

static int cmd_quota_enable(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: sprites-helper quota-enable MOUNTPOINT\n");
    return 2;
  }
  int fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(argv[2]);
  struct btrfs_quota_ctl_args args = {.cmd = BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA};
  if (ioctl(fd, BTRFS_IOC_QUOTA_CTL, &args) == 0) {
    puts("simple");
    return 0;
  }
  if (errno != EINVAL && errno != EOPNOTSUPP) return fail("enable simple quotas");
  args.cmd = BTRFS_QUOTA_CTL_ENABLE;
  if (ioctl(fd, BTRFS_IOC_QUOTA_CTL, &args) < 0) return fail("enable quotas");
  puts("full");
  return 0;
}

#define BTRFS_SUBVOL_NAME_MAX 4039
#define BTRFS_SUBVOL_RDONLY (1ULL << 1)
#define BTRFS_SUBVOL_QGROUP_INHERIT (1ULL << 2)
struct btrfs_qgroup_limit_s {
  uint64_t flags, max_rfer, max_excl, rsv_rfer, rsv_excl;
};
struct btrfs_qgroup_inherit_s {
  uint64_t flags, num_qgroups, num_ref_copies, num_excl_copies;
  struct btrfs_qgroup_limit_s lim;
  uint64_t qgroups[1];
};
struct btrfs_ioctl_vol_args_v2_s {
  int64_t fd;
  uint64_t transid;
  uint64_t flags;
  union {
    struct {
      uint64_t size;
      struct btrfs_qgroup_inherit_s *qgroup_inherit;
    };
    uint64_t unused[4];
  };
  union {
    char name[BTRFS_SUBVOL_NAME_MAX + 1];
    uint64_t devid;
    uint64_t subvolid;
  };
};
#define BTRFS_IOC_SNAP_CREATE_V2 _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2_s)

/* Writes `value` to a freezer file and waits (up to 2 s) until the kernel reports it done. */
static int set_freezer(const char *file, int frozen) {
  int v2 = strstr(file, "cgroup.freeze") != NULL;
  const char *value = v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, value, strlen(value));
  close(fd);
  if (n < 0) return -1;
  char events[512];
  if (v2) {
    snprintf(events, sizeof events, "%.*s/cgroup.events", (int)(strrchr(file, '/') - file), file);
  }
  const char *check = v2 ? events : file;
  const char *want = v2 ? (frozen ? "frozen 1" : "frozen 0") : value;
  for (int i = 0; i < 2000; i++) {
    char buf[512] = {0};
    int rfd = open(check, O_RDONLY | O_CLOEXEC);
    if (rfd < 0) return -1;
    ssize_t got = read(rfd, buf, sizeof buf - 1);
    close(rfd);
    if (got > 0 && strstr(buf, want)) return 0;
    usleep(500);
  }
  errno = ETIMEDOUT;
  return -1;
}

static int cmd_snapshot(int argc, char **argv) {
  int readonly = 0;
  long long group = -1;
  const char *freeze = NULL;
  int i = 2;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "-r") == 0) readonly = 1;
    else if (strcmp(argv[i], "-g") == 0 && i + 1 < argc) group = atoll(argv[++i]);
    else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) freeze = argv[++i];
    else break;
  }
  if (argc - i != 3 || strlen(argv[i + 2]) > BTRFS_SUBVOL_NAME_MAX) {
    fprintf(stderr, "usage: sprites-helper snapshot [-r] [-g GROUP] [-f FREEZE_FILE] SRC DST_DIR NAME\n");
    return 2;
  }
  int src = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src < 0) return fail(argv[i]);
  int dst = open(argv[i + 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst < 0) return fail(argv[i + 1]);
  struct btrfs_qgroup_inherit_s inherit;
  memset(&inherit, 0, sizeof inherit);
  struct btrfs_ioctl_vol_args_v2_s args;
  memset(&args, 0, sizeof args);
  args.fd = src;
  if (readonly) args.flags |= BTRFS_SUBVOL_RDONLY;
  if (group >= 0) {
    inherit.num_qgroups = 1;
    inherit.qgroups[0] = (1ULL << 48) | (uint64_t)group;
    args.flags |= BTRFS_SUBVOL_QGROUP_INHERIT;
    args.size = sizeof inherit;
    args.qgroup_inherit = &inherit;
  }
  strncpy(args.name, argv[i + 2], BTRFS_SUBVOL_NAME_MAX);
  /* Most dirty data goes out while the sprite still runs; the frozen window stays short. */
  if (syncfs(src) < 0) return fail("syncfs");
  if (freeze && set_freezer(freeze, 1) < 0) {
    int err = errno;
    set_freezer(freeze, 0);
    errno = err;
    return fail("freeze");
  }
  int rc = 0;
  if (freeze && syncfs(src) < 0) rc = fail("syncfs while frozen");
  if (rc == 0 && ioctl(dst, BTRFS_IOC_SNAP_CREATE_V2, &args) < 0) rc = fail("snapshot");
  if (freeze && set_freezer(freeze, 0) < 0 && rc == 0) rc = fail("thaw");
  return rc;
}

static int cmd_hide_unified(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: sprites-helper hide-unified -- PROGRAM ARGS...\n");
    return 2;
  }
  if (unshare(CLONE_NEWNS) < 0) return fail("unshare(CLONE_NEWNS)");
  /* Slave, not private: mounts the daemon adds on the host later (checkpoint views) still reach
   * the containers started from here; nothing done here flows back to the host. */
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) return fail("make / a slave");
  if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) return fail("umount unified");
  execvp(argv[3], argv + 3);
  return fail(argv[3]);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "idmap") == 0) return cmd_idmap(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "listen") == 0) return cmd_listen(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "hide-unified") == 0) return cmd_hide_unified(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "quota-enable") == 0) return cmd_quota_enable(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "snapshot") == 0) return cmd_snapshot(argc, argv);
  fprintf(stderr, "usage: sprites-helper idmap|listen|hide-unified|quota-enable|snapshot ...\n");
  return 2;
}
