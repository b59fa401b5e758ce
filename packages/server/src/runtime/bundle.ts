/**
 * Builds the OCI runtime config of a sprite (pure: no I/O, unit-tested). Everything the
 * sprite may do or see on the host is decided here: namespaces, id mapping, mounts,
 * capabilities, cgroup limits.
 */

export interface AgentMounts {
  /** Host path of a static tini (PID 1). */
  tini: string;
  /** Host path of the node binary that runs the agent. */
  node: string;
  /** Host directory holding the dynamic loader and the libraries node needs. */
  libDir: string;
  /** File name of the dynamic loader inside libDir (e.g. ld-linux-x86-64.so.2). */
  loader: string;
  /** Host directory holding the agent bundle (agent.js). */
  agentDir: string;
}

export interface SpriteBundleSpec {
  hostname: string;
  /** Host path of the sprite's (idmapped) root filesystem. */
  rootfs: string;
  /** First host uid/gid of the sprite's 65,536-id range. */
  hostIdBase: number;
  idCount: number;
  /** Path of the network namespace made for the sprite (/run/netns/...). */
  netnsPath: string;
  /** cgroup path relative to each hierarchy's root, e.g. /sprites-a1b2c3/<id>. */
  cgroupsPath: string;
  memoryBytes: number;
  cpus: number;
  pidsLimit: number;
  /** Size of the /tmp tmpfs. */
  tmpBytes: number;
  /** Soft and hard RLIMIT_NOFILE: must not exceed the daemon's own hard limit. */
  nofile: number;
  /** Daemon-written files bound read-only over /etc/hosts and /etc/resolv.conf. */
  hostsFile: string;
  resolvFile: string;
  /** Host directory (a shared mount) whose submounts appear read-only at /.sprite/checkpoints. */
  checkpointsView?: string;
  /** Host directory bound read-only at /.sprite/policy (the sprite's network policy). */
  policyDir?: string;
  agent: AgentMounts;
  /** Environment of the agent (and so the default of every command it runs). */
  env: Record<string, string>;
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** The part of an OCI config we produce; typed loosely where the spec is open-ended. */
export interface OciConfig {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted', string[]>;
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    rootfsPropagation?: string;
    uidMappings: { containerID: number; hostID: number; size: number }[];
    gidMappings: { containerID: number; hostID: number; size: number }[];
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: {
      devices: { allow: boolean; access?: string; type?: string; major?: number; minor?: number }[];
      memory: { limit: number; swap: number };
      cpu: { quota: number; period: number };
      pids: { limit: number };
    };
    maskedPaths: string[];
    readonlyPaths: string[];
    seccomp?: OciSeccomp;
  };
}

export interface OciSeccomp {
  defaultAction: string;
  architectures: string[];
  syscalls: {
    names: string[];
    action: string;
    errnoRet?: number;
    args?: { index: number; value: number; valueTwo: number; op: string }[];
  }[];
}

/**
 * What a container gets by default in Docker (enough for sudo, apt and package managers),
 * plus CAP_SYS_PTRACE: gdb and strace are a developer's tools, the agent needs it to tell
 * which process opened a port, and in the sprite's user namespace it reaches only the
 * sprite's own processes.
 */
export const SPRITE_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
  'CAP_SYS_PTRACE',
];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const CPU_PERIOD_US = 100_000;

/**
 * OOM scores: tini and the agent sit below the commands the agent starts (its native spawner
 * raises each child to USER_OOM_SCORE_ADJ before exec), so a sprite that runs out of memory
 * loses a user's process, not the agent that serves it. Only positive values: root on this
 * kind of host lacks CAP_SYS_RESOURCE, and raising a score is always allowed.
 */
export const AGENT_OOM_SCORE_ADJ = 100;
export const USER_OOM_SCORE_ADJ = 500;

/**
 * btrfs ioctls that make a subvolume or snapshot (linux/btrfs.h: _IOW(0x94, nr, 4096-byte
 * args)). A subvolume made inside a sprite's volume escapes its quota group and makes the
 * volume undeletable by a plain subvolume delete, so sprites may not make any (ADR 0018).
 */
export const BTRFS_SUBVOLUME_IOCTLS = {
  SNAP_CREATE: 0x50009401,
  SUBVOL_CREATE: 0x5000940e,
  SNAP_CREATE_V2: 0x50009417,
  SUBVOL_CREATE_V2: 0x50009418,
} as const;

const EPERM = 1;

/** The native ABI and the compat ones a process of it can switch to (int 0x80, x32). */
const SECCOMP_ARCHES: Partial<Record<string, string[]>> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

/**
 * Allows every system call except the btrfs subvolume ioctls (EPERM). The ioctl number is
 * compared on its low 32 bits (the kernel ignores the rest, so a caller could set them to
 * slip past an exact match), and the filter covers the 32-bit ABIs too.
 */
export function spriteSeccomp(): OciSeccomp {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: SECCOMP_ARCHES[process.arch] ?? [],
    syscalls: Object.values(BTRFS_SUBVOLUME_IOCTLS).map((request) => ({
      names: ['ioctl'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: EPERM,
      args: [{ index: 1, value: 0xffffffff, valueTwo: request, op: 'SCMP_CMP_MASKED_EQ' }],
    })),
  };
}

/** Character devices every sprite gets (null, zero, full, tty, random, urandom, ptmx, every pts). */
const ALLOWED_DEVICES: { type: string; major: number; minor?: number }[] = [
  { type: 'c', major: 1, minor: 3 },
  { type: 'c', major: 1, minor: 5 },
  { type: 'c', major: 1, minor: 7 },
  { type: 'c', major: 5, minor: 0 },
  { type: 'c', major: 1, minor: 8 },
  { type: 'c', major: 1, minor: 9 },
  { type: 'c', major: 5, minor: 2 },
  { type: 'c', major: 136 },
];

export function buildOciConfig(spec: SpriteBundleSpec): OciConfig {
  const a = spec.agent;
  const ro = ['bind', 'ro', 'nosuid', 'nodev'];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [
        '/.sprite/bin/tini',
        '-g',
        '--',
        `/.sprite/lib/${a.loader}`,
        '--library-path',
        '/.sprite/lib',
        '/.sprite/bin/node',
        '--max-semi-space-size=1',
        '/.sprite/agent/agent.js',
      ],
      env: Object.entries({ PATH: DEFAULT_PATH, HOME: '/root', ...spec.env }).map(([k, v]) => `${k}=${v}`),
      cwd: '/',
      capabilities: { bounding: SPRITE_CAPABILITIES, effective: SPRITE_CAPABILITIES, permitted: SPRITE_CAPABILITIES },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: spec.nofile, soft: spec.nofile }],
      // sudo is setuid: users of a sprite expect it to work.
      noNewPrivileges: false,
      oomScoreAdj: AGENT_OOM_SCORE_ADJ,
    },
    root: { path: spec.rootfs, readonly: false },
    hostname: spec.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      // sysfs cannot be mounted in a user namespace that does not own the network namespace;
      // a read-only bind with the sensitive parts masked below stands in for it.
      { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'ro', 'nosuid', 'noexec', 'nodev'] },
      {
        destination: '/tmp',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'mode=1777', `size=${spec.tmpBytes}`],
      },
      { destination: '/.sprite', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'size=4m'] },
      { destination: '/.sprite/bin/tini', type: 'bind', source: a.tini, options: ro },
      { destination: '/.sprite/bin/node', type: 'bind', source: a.node, options: ro },
      { destination: '/.sprite/lib', type: 'bind', source: a.libDir, options: ro },
      { destination: '/.sprite/agent', type: 'bind', source: a.agentDir, options: ro },
      { destination: '/etc/hosts', type: 'bind', source: spec.hostsFile, options: ro },
      { destination: '/etc/resolv.conf', type: 'bind', source: spec.resolvFile, options: ro },
      // rslave: checkpoint views the daemon mounts later on the host side show up inside.
      ...(spec.checkpointsView
        ? [
            {
              destination: '/.sprite/checkpoints',
              type: 'bind',
              source: spec.checkpointsView,
              options: ['rbind', 'ro', 'nosuid', 'nodev', 'rslave'],
            },
          ]
        : []),
      ...(spec.policyDir
        ? [
            {
              destination: '/.sprite/policy',
              type: 'bind',
              source: spec.policyDir,
              options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'],
            },
          ]
        : []),
    ],
    linux: {
      // Slave, not private: mounts the daemon adds under the checkpoint view on the host must
      // still reach the sprite after the runtime has copied the mount table.
      ...(spec.checkpointsView ? { rootfsPropagation: 'rslave' } : {}),
      uidMappings: [{ containerID: 0, hostID: spec.hostIdBase, size: spec.idCount }],
      gidMappings: [{ containerID: 0, hostID: spec.hostIdBase, size: spec.idCount }],
      namespaces: [
        { type: 'pid' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'cgroup' },
        { type: 'user' },
        { type: 'network', path: spec.netnsPath },
      ],
      cgroupsPath: spec.cgroupsPath,
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          ...ALLOWED_DEVICES.map((d) => ({ allow: true, access: 'rwm', ...d })),
        ],
        memory: { limit: spec.memoryBytes, swap: spec.memoryBytes },
        cpu: { quota: Math.max(1000, Math.round(spec.cpus * CPU_PERIOD_US)), period: CPU_PERIOD_US },
        pids: { limit: spec.pidsLimit },
      },
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
        '/sys/firmware',
        '/sys/devices/virtual/powercap',
        '/sys/kernel',
        '/sys/module',
        '/sys/block',
        '/sys/dev',
        '/sys/bus',
        '/sys/class',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      seccomp: spriteSeccomp(),
    },
  };
}
