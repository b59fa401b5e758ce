import { basename } from 'node:path';
import { ErrorCode, SpriteError } from '@sprites/protocol';
import { CommandError } from './run.js';

/**
 * Host faults as the client sees them (ADR 0024). Rooms wrap what failed with context and
 * cause (`new Error('create network namespace spr-a1-7', { cause })`); this turns such a
 * chain into the one wire error that says what happened:
 * - no space in the storage pool (ENOSPC of a file operation, or "No space left on device"
 *   from btrfs or the snapshot helper): 507 `insufficient_storage`;
 * - the sprite's own disk quota (EDQUOT, "Disk quota exceeded"): 507 `quota_exceeded`;
 * - a host command that failed or could not be started (ip, nft, crun, btrfs, mount...), or
 *   a kernel file (cgroupfs, /proc) refusing a write: 503 `host_error`, naming the
 *   operation and the program's complaint.
 * Anything else is not a host fault (null): a bug, answered 500 by the error handler.
 */
export function hostFault(e: unknown): SpriteError | null {
  if (e instanceof SpriteError) return e;
  const links = [...chain(e)];
  for (const link of links) {
    const shortage = storageShortage(link);
    if (shortage === 'full') return poolFull(e);
    if (shortage === 'quota') return quotaExceeded(e);
  }
  if (!links.some((l) => l instanceof CommandError || isSpawnFailure(l) || isKernelInterfaceFailure(l))) return null;
  return new SpriteError(
    ErrorCode.HostError,
    `a host operation failed: ${describeChain(links)}. Nothing of this request was kept; retry it, and tell the operator if it keeps failing`,
    { cause: e },
  );
}

/**
 * `e` with `doing` as its outermost context when it is a host fault (so the client reads
 * which operation of theirs failed); any other error (a SpriteError, a name taken) unchanged.
 */
export function inContext(e: unknown, doing: string): unknown {
  if (e instanceof SpriteError || hostFault(e) === null) return e;
  return new Error(doing, { cause: e });
}

/** The storage pool is full: what the client reads, whatever the operation was. */
export function poolFull(cause?: unknown): SpriteError {
  return new SpriteError(
    ErrorCode.InsufficientStorage,
    "the host's storage pool is full; nothing was changed. Delete sprites or checkpoints you no longer need, or ask the operator to grow the pool (docs/operations.md)",
    cause === undefined ? {} : { cause },
  );
}

function quotaExceeded(cause: unknown): SpriteError {
  return new SpriteError(
    ErrorCode.QuotaExceeded,
    "the sprite's disk quota (storage_gb, checkpoints included) is used up: delete files or checkpoints of this sprite, or create it with a larger storage_gb",
    { cause },
  );
}

const NO_SPACE = /No space left on device/i;
const QUOTA = /Disk quota exceeded/i;
/** How much of a program's complaint reaches the client (the log has all of it). */
const COMPLAINT_CHARS = 240;

/** The error and what it wraps (causes, an AggregateError's errors), outermost first. */
function* chain(e: unknown, depth = 0): Generator<unknown> {
  if (depth > 8 || e === null || e === undefined) return;
  yield e;
  if (e instanceof AggregateError) for (const inner of e.errors) yield* chain(inner, depth + 1);
  if (e instanceof Error && e.cause !== undefined) yield* chain(e.cause, depth + 1);
}

/** Programs whose "No space left on device" is about the storage pool. */
const STORAGE_PROGRAMS = new Set(['btrfs', 'mkfs.btrfs', 'cp', 'sync']);
const STORAGE_HELPER_VERBS = new Set(['snapshot', 'quota-enable']);

/**
 * Whether this link is storage running out: a storage program saying so, or a file
 * operation failing with ENOSPC/EDQUOT. ENOSPC means other things elsewhere (`ip` when the
 * kernel has no room for another interface, cgroupfs out of ids): those stay host errors.
 */
function storageShortage(e: unknown): 'full' | 'quota' | null {
  if (e instanceof CommandError) {
    const program = basename(e.argv[0] ?? '');
    const storage =
      STORAGE_PROGRAMS.has(program) || (program === 'sprites-helper' && STORAGE_HELPER_VERBS.has(e.argv[1] ?? ''));
    if (!storage) return null;
    const said = `${e.stderr}\n${e.stdout}`;
    return NO_SPACE.test(said) ? 'full' : QUOTA.test(said) ? 'quota' : null;
  }
  const err = e as NodeJS.ErrnoException | null;
  if (typeof err?.path !== 'string' || /^\/(sys|proc|dev)\//.test(err.path)) return null;
  // libuv has no name for EDQUOT (122): it arrives as errno -122.
  const code = err.errno === -122 ? 'EDQUOT' : err.code;
  return code === 'ENOSPC' ? 'full' : code === 'EDQUOT' ? 'quota' : null;
}

/** A call on the kernel's files (cgroups, /proc) that failed: the host refused, not our logic. */
function isKernelInterfaceFailure(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException | null;
  return typeof err?.syscall === 'string' && typeof err.path === 'string' && /^\/(sys|proc)\//.test(err.path);
}

/** A program that could not be started at all (missing, not executable). */
function isSpawnFailure(e: unknown): boolean {
  const syscall = (e as NodeJS.ErrnoException | null)?.syscall;
  return typeof syscall === 'string' && syscall.startsWith('spawn');
}

/**
 * "context: context: program exited N: first line it printed", from the chain. An
 * AggregateError (runAll's summary, which quotes whole command lines) gives way to its
 * failed steps; a message already quoted by an outer one is not repeated.
 */
function describeChain(links: unknown[]): string {
  const parts: string[] = [];
  for (const link of links) {
    if (link instanceof CommandError) {
      parts.push(commandText(link));
      break;
    }
    if (!(link instanceof Error) || link instanceof AggregateError) continue;
    const text = link.message.trim();
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
  }
  return clip(parts.join(': '), 600);
}

/** "ip netns add", "btrfs subvolume snapshot", "nft": the program and its leading verbs. */
function commandText(e: CommandError): string {
  const verbs: string[] = [];
  for (const arg of e.argv.slice(1, 3)) {
    if (!/^[a-z][a-z-]*$/.test(arg)) break;
    verbs.push(arg);
  }
  const program = [basename(e.argv[0] ?? 'command'), ...verbs].join(' ');
  const said = (e.stderr.trim() || e.stdout.trim()).split('\n').find((l) => l.trim() !== '') ?? '';
  const how = e.code === null ? 'was killed' : `exited ${e.code}`;
  return `${program} ${how}${said ? `: ${clip(said.trim(), COMPLAINT_CHARS)}` : ''}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
