/*
 * sprite-agent's native helpers, a Node-API addon: a process spawner and per-thread
 * filesystem credentials.
 *
 * Why: Node's child_process forks the whole agent (page tables of a ~40 MB process) before
 * exec; on a small VM that alone costs several milliseconds per command. This starts the
 * command with clone(CLONE_VM | CLONE_VFORK) on a private stack, the way posix_spawn does,
 * so nothing is copied; the child switches user, directory and stdio, then execs.
 *
 * spawn(file, argv[], envp[], cwd, uid, gid, withStdin, onExit(code, signal))
 *   -> [pid, stdinFd | -1, stdoutFd, stderrFd]   (the caller owns the fds)
 * throws an Error whose .code is the errno name (ENOENT, EACCES, ...) if exec failed.
 *
 * The exit is reaped by a small thread per command, blocked in waitid on that pid only, which
 * hands the status to JavaScript through a thread-safe function. libuv reaps only the pids it
 * spawned itself, so nobody else takes ours.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_STACK (128 * 1024)

struct child_args {
  const char *file;
  char **argv;
  char **envp;
  const char *cwd;
  uid_t uid;
  gid_t gid;
  int fds[3]; /* what becomes 0, 1, 2 in the child */
  sigset_t mask;
  volatile int err; /* errno of the step that failed, written by the child (shared memory) */
};

/*
 * Runs in the child on its own stack, sharing the parent's memory until exec: only
 * async-signal-safe calls, raw syscalls for credentials (glibc's wrappers would try to
 * broadcast the change to the parent's threads).
 */
/* Keep in step with USER_OOM_SCORE_ADJ in packages/server/src/runtime/bundle.ts. */
#define USER_OOM_SCORE_ADJ "500"

static int child_main(void *p) {
  struct child_args *a = p;
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < 65; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &dfl, NULL); /* glibc's internal signals refuse: harmless */
  }
  if (setsid() < 0) goto fail;
  /* The agent runs with a low OOM score (the daemon's bundle); its commands get the normal
   * one back, so the kernel's OOM killer takes a user's process before the agent. Raising is
   * always allowed; done before the uid switch, while /proc/self is still ours to write.
   * Best effort: a sprite without /proc still runs its commands. */
  int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (oom >= 0) {
    (void)!write(oom, USER_OOM_SCORE_ADJ, sizeof USER_OOM_SCORE_ADJ - 1);
    close(oom);
  }
  gid_t groups[1] = {a->gid};
  if (syscall(SYS_setgroups, 1, groups) < 0) goto fail;
  if (syscall(SYS_setresgid, a->gid, a->gid, a->gid) < 0) goto fail;
  if (syscall(SYS_setresuid, a->uid, a->uid, a->uid) < 0) goto fail;
  if (chdir(a->cwd) < 0) goto fail;
  for (int i = 0; i < 3; i++) {
    if (a->fds[i] == i) {
      if (fcntl(i, F_SETFD, 0) < 0) goto fail;
    } else if (dup2(a->fds[i], i) < 0) {
      goto fail;
    }
  }
  /* Nothing of the agent's leaks into the command: not its sockets, not its listener. */
  syscall(SYS_close_range, 3, ~0U, 0);
  sigemptyset(&a->mask);
  sigprocmask(SIG_SETMASK, &a->mask, NULL);
  execve(a->file, a->argv, a->envp);
fail:
  a->err = errno;
  _exit(127);
}

static void free_strv(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static char **get_strv(napi_env env, napi_value arr) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **v = calloc(n + 1, sizeof(char *));
  if (!v) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    v[i] = get_string(env, e);
    if (!v[i]) {
      free_strv(v);
      return NULL;
    }
  }
  return v;
}

struct exit_status {
  int code;   /* exit status, or -1 when killed by a signal */
  int signal; /* signal number, or 0 */
};

struct waiter {
  pid_t pid;
  napi_threadsafe_function tsfn;
};

static void call_js_exit(napi_env env, napi_value cb, void *context, void *data) {
  (void)context;
  struct exit_status *st = data;
  if (env && cb) {
    napi_value argv[2], undefined;
    napi_create_int32(env, st->code, &argv[0]);
    napi_create_int32(env, st->signal, &argv[1]);
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, cb, 2, argv, NULL);
  }
  free(st);
}

static void *wait_child(void *p) {
  struct waiter *w = p;
  siginfo_t info;
  memset(&info, 0, sizeof info);
  while (waitid(P_PID, w->pid, &info, WEXITED) < 0 && errno == EINTR) {
  }
  struct exit_status *st = malloc(sizeof *st);
  if (st) {
    st->code = info.si_code == CLD_EXITED ? info.si_status : -1;
    st->signal = info.si_code == CLD_EXITED ? 0 : info.si_status;
    napi_call_threadsafe_function(w->tsfn, st, napi_tsfn_blocking);
  }
  napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
  free(w);
  return NULL;
}

static napi_value throw_errno(napi_env env, int err, const char *what) {
  napi_value code, msg, error;
  const char *name = err == ENOENT ? "ENOENT" : err == EACCES ? "EACCES" : err == ENOTDIR ? "ENOTDIR" : err == ENOEXEC ? "ENOEXEC" : err == E2BIG ? "E2BIG" : err == EPERM ? "EPERM" : err == EAGAIN ? "EAGAIN" : err == ENOMEM ? "ENOMEM" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  char text[256];
  snprintf(text, sizeof text, "%s: %s", what, strerror(err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_throw(env, error);
  return NULL;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static napi_value spawn_command(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 8;
  napi_value args[8];
  napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL);
  if (argc < 8) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, cwd, uid, gid, withStdin, onExit)");
    return NULL;
  }
  struct child_args a;
  memset(&a, 0, sizeof a);
  int32_t uid = 0, gid = 0;
  bool with_stdin = false;
  napi_get_value_int32(env, args[4], &uid);
  napi_get_value_int32(env, args[5], &gid);
  napi_get_value_bool(env, args[6], &with_stdin);
  a.uid = (uid_t)uid;
  a.gid = (gid_t)gid;
  char *file = get_string(env, args[0]);
  char *cwd = get_string(env, args[3]);
  a.file = file;
  a.cwd = cwd;
  a.argv = get_strv(env, args[1]);
  a.envp = get_strv(env, args[2]);
  /* parent ends: [0] writes the child's stdin, [1] and [2] read its stdout and stderr */
  int parent[3] = {-1, -1, -1}, child[3] = {-1, -1, -1};
  napi_value result = NULL;
  void *stack = MAP_FAILED;
  int err = 0;
  const char *what = "spawn";
  if (!file || !cwd || !a.argv || !a.envp) {
    err = ENOMEM;
    goto out;
  }
  int p[2];
  if (with_stdin) {
    if (pipe2(p, O_CLOEXEC) < 0) goto errno_out;
    child[0] = p[0];
    parent[0] = p[1];
  } else if ((child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    goto errno_out;
  }
  for (int i = 1; i < 3; i++) {
    if (pipe2(p, O_CLOEXEC) < 0) goto errno_out;
    parent[i] = p[0];
    child[i] = p[1];
  }
  /* the child's ends must not collide with 0..2 of their own targets: dup them above 2 */
  for (int i = 0; i < 3; i++) {
    if (child[i] > 2) continue;
    int moved = fcntl(child[i], F_DUPFD_CLOEXEC, 3);
    if (moved < 0) goto errno_out;
    close(child[i]);
    child[i] = moved;
  }
  memcpy(a.fds, child, sizeof child);
  stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) goto errno_out;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(child_main, (char *)stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    err = clone_errno;
    what = "clone";
    goto out;
  }
  if (a.err) {
    /* exec failed: the child has exited with 127; reap it here */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    err = a.err;
    what = file;
    goto out;
  }
  struct waiter *w = malloc(sizeof *w);
  if (!w) {
    err = ENOMEM;
    goto out;
  }
  w->pid = pid;
  napi_value name;
  napi_create_string_utf8(env, "sprite-agent exit", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, args[7], NULL, name, 0, 1, NULL, NULL, NULL, call_js_exit, &w->tsfn);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  if (pthread_create(&thread, &attr, wait_child, w) != 0) {
    /* no thread: the exit is still reaped, here and now (the command's output is not lost) */
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
    free(w);
    pthread_attr_destroy(&attr);
    err = EAGAIN;
    what = "thread";
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    goto out;
  }
  pthread_attr_destroy(&attr);
  napi_create_array_with_length(env, 4, &result);
  napi_value v;
  napi_create_int32(env, pid, &v);
  napi_set_element(env, result, 0, v);
  for (int i = 0; i < 3; i++) {
    napi_create_int32(env, parent[i], &v);
    napi_set_element(env, result, (uint32_t)i + 1, v);
    parent[i] = -1; /* handed to the caller */
  }
  goto out;
errno_out:
  err = errno;
out:
  for (int i = 0; i < 3; i++) {
    close_fd(&child[i]);
    close_fd(&parent[i]);
  }
  if (stack != MAP_FAILED) munmap(stack, CHILD_STACK);
  free_strv(a.argv);
  free_strv(a.envp);
  napi_value ret = result;
  if (err) ret = throw_errno(env, err, what);
  free(file);
  free(cwd);
  return ret;
}

/*
 * setFsIdentity(uid, gid, groups[]) -> true when the kernel took it.
 *
 * Changes the filesystem uid/gid and supplementary groups of the calling thread only (raw
 * syscalls: glibc would apply setgroups to every thread). File operations the agent makes
 * synchronously on its main thread then get exactly the permissions of that user, and files
 * they create belong to it; the kernel drops the filesystem capabilities while fsuid != 0.
 * Child processes, libuv's pool threads and everything else keep the agent's own identity.
 */
static napi_value set_fs_identity(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 3;
  napi_value args[3];
  napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL);
  int32_t uid = -1, gid = -1;
  uint32_t n = 0;
  if (argc < 3 || napi_get_value_int32(env, args[0], &uid) != napi_ok || napi_get_value_int32(env, args[1], &gid) != napi_ok ||
      napi_get_array_length(env, args[2], &n) != napi_ok || n > 64) {
    napi_throw_type_error(env, NULL, "setFsIdentity(uid, gid, groups[])");
    return NULL;
  }
  gid_t groups[64];
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    int32_t g = 0;
    napi_get_element(env, args[2], i, &e);
    napi_get_value_int32(env, e, &g);
    groups[i] = (gid_t)g;
  }
  bool ok = syscall(SYS_setgroups, (size_t)n, groups) == 0;
  syscall(SYS_setfsgid, (gid_t)gid);
  syscall(SYS_setfsuid, (uid_t)uid);
  /* setfsuid/setfsgid report the previous value, never an error: read them back */
  ok = ok && (int32_t)syscall(SYS_setfsuid, (uid_t)-1) == uid && (int32_t)syscall(SYS_setfsgid, (gid_t)-1) == gid;
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

/*
 * inotify, read by a thread of its own: the inotify fd is neither a pipe nor a socket, so
 * libuv cannot watch it. Each read's events reach JavaScript as one batch:
 * onEvents([wd, mask, cookie, name, wd, mask, cookie, name, ...]).
 *
 * watchOpen(onEvents) -> handle;  watchAdd(handle, path, mask) -> wd (throws errno);
 * watchRemove(handle, wd);  watchClose(handle)
 */
struct inotify_watcher {
  int fd;
  int wake; /* eventfd: tells the reader thread to stop */
  napi_threadsafe_function tsfn;
  bool closed;
  int refs; /* the reader thread and the JavaScript handle; the last one frees */
};

static void watcher_unref(struct inotify_watcher *w) {
  if (__atomic_sub_fetch(&w->refs, 1, __ATOMIC_SEQ_CST) == 0) free(w);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watcher_unref(data);
}

struct event_batch {
  size_t len;
  char buf[]; /* raw struct inotify_event records */
};

static void call_js_events(napi_env env, napi_value cb, void *context, void *data) {
  (void)context;
  struct event_batch *b = data;
  if (env && cb) {
    napi_value arr, v, undefined;
    napi_create_array(env, &arr);
    uint32_t i = 0;
    for (size_t off = 0; off + sizeof(struct inotify_event) <= b->len;) {
      struct inotify_event *e = (struct inotify_event *)(b->buf + off);
      napi_create_int32(env, e->wd, &v);
      napi_set_element(env, arr, i++, v);
      napi_create_uint32(env, e->mask, &v);
      napi_set_element(env, arr, i++, v);
      napi_create_uint32(env, e->cookie, &v);
      napi_set_element(env, arr, i++, v);
      napi_create_string_utf8(env, e->len ? e->name : "", NAPI_AUTO_LENGTH, &v);
      napi_set_element(env, arr, i++, v);
      off += sizeof(struct inotify_event) + e->len;
    }
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, cb, 1, &arr, NULL);
  }
  free(b);
}

static void *read_inotify(void *p) {
  struct inotify_watcher *w = p;
  char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    struct pollfd fds[2] = {{.fd = w->fd, .events = POLLIN}, {.fd = w->wake, .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    struct event_batch *b = malloc(sizeof *b + (size_t)n);
    if (!b) continue;
    b->len = (size_t)n;
    memcpy(b->buf, buf, (size_t)n);
    if (napi_call_threadsafe_function(w->tsfn, b, napi_tsfn_blocking) != napi_ok) free(b);
  }
  napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
  close(w->fd);
  close(w->wake);
  watcher_unref(w);
  return NULL;
}

static struct inotify_watcher *watcher_arg(napi_env env, napi_value v) {
  struct inotify_watcher *w = NULL;
  if (napi_get_value_external(env, v, (void **)&w) != napi_ok || !w || w->closed) {
    napi_throw_error(env, "EBADF", "the watcher is closed");
    return NULL;
  }
  return w;
}

static napi_value watch_open(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL);
  struct inotify_watcher *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, "inotify");
  w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (w->fd < 0) {
    int err = errno;
    free(w);
    return throw_errno(env, err, "inotify_init1");
  }
  w->wake = eventfd(0, EFD_CLOEXEC);
  w->refs = 2;
  napi_value name;
  napi_create_string_utf8(env, "sprite-agent inotify", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, args[0], NULL, name, 0, 1, NULL, NULL, NULL, call_js_events, &w->tsfn);
  /* the reader thread must not keep the agent alive on its own */
  napi_unref_threadsafe_function(env, w->tsfn);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 128 * 1024);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, read_inotify, w);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
    close(w->fd);
    close(w->wake);
    free(w);
    return throw_errno(env, rc, "pthread_create");
  }
  napi_value handle;
  napi_create_external(env, w, watcher_finalize, NULL, &handle);
  return handle;
}

static napi_value watch_add(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 3;
  napi_value args[3];
  napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL);
  struct inotify_watcher *w = watcher_arg(env, args[0]);
  if (!w) return NULL;
  char *path = get_string(env, args[1]);
  uint32_t mask = 0;
  napi_get_value_uint32(env, args[2], &mask);
  if (!path) return throw_errno(env, ENOMEM, "watch");
  int wd = inotify_add_watch(w->fd, path, mask);
  int err = errno;
  napi_value result = NULL;
  if (wd < 0) throw_errno(env, err, path);
  else napi_create_int32(env, wd, &result);
  free(path);
  return result;
}

static napi_value watch_remove(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL);
  struct inotify_watcher *w = watcher_arg(env, args[0]);
  if (!w) return NULL;
  int32_t wd = -1;
  napi_get_value_int32(env, args[1], &wd);
  inotify_rm_watch(w->fd, wd);
  return NULL;
}

static napi_value watch_close(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL);
  struct inotify_watcher *w = watcher_arg(env, args[0]);
  if (!w) return NULL;
  w->closed = true;
  uint64_t one = 1;
  if (write(w->wake, &one, sizeof one) < 0) {
    /* the thread then stays until the agent exits: nothing else to do */
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, spawn_command, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "setFsIdentity", NAPI_AUTO_LENGTH, set_fs_identity, NULL, &fn);
  napi_set_named_property(env, exports, "setFsIdentity", fn);
  napi_create_function(env, "watchOpen", NAPI_AUTO_LENGTH, watch_open, NULL, &fn);
  napi_set_named_property(env, exports, "watchOpen", fn);
  napi_create_function(env, "watchAdd", NAPI_AUTO_LENGTH, watch_add, NULL, &fn);
  napi_set_named_property(env, exports, "watchAdd", fn);
  napi_create_function(env, "watchRemove", NAPI_AUTO_LENGTH, watch_remove, NULL, &fn);
  napi_set_named_property(env, exports, "watchRemove", fn);
  napi_create_function(env, "watchClose", NAPI_AUTO_LENGTH, watch_close, NULL, &fn);
  napi_set_named_property(env, exports, "watchClose", fn);
  return exports;
}
