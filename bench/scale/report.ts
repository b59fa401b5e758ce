import type { Summary } from '../stats.js';
import type { CapacityResult } from './capacity.js';
import type { HostSnapshot } from './host.js';
import type { LoadResult } from './load.js';
import type { Recorder } from './recorder.js';

const f0 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(0));
const f1 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(1));

function latencyRow(kind: string, phase: string, s: Summary | undefined): string {
  return `  ${kind.padEnd(20)} ${phase.padEnd(16)} ${String(s?.n ?? 0).padStart(6)} ${f1(s?.p50).padStart(9)} ${f1(s?.p99).padStart(9)} ${f1(s?.max).padStart(9)}`;
}

/** Failures by kind and status, with the first messages, and the zero-5xx / zero-failed-create goals. */
export function failureLines(recorder: Recorder): string[] {
  const groups = recorder.failureGroups();
  const lines = [
    `requests: ${recorder.count()} in all, ${recorder.count(undefined, false)} failed; by kind and status (101: an exec WebSocket that ran):`,
  ];
  for (const [kind, byStatus] of Object.entries(recorder.statusCounts())) {
    lines.push(
      `  ${kind.padEnd(20)} ${Object.entries(byStatus)
        .map(([status, n]) => `${status} ×${n}`)
        .join(', ')}`,
    );
  }
  if (groups.length === 0) lines.push('failures: none');
  else {
    lines.push('failures by kind and status:');
    for (const g of groups) {
      lines.push(`  ${g.kind.padEnd(20)} ${String(g.status).padEnd(13)} ${String(g.count).padStart(6)}`);
      for (const m of g.messages) lines.push(`      ${m}`);
    }
  }
  const serverErrors = recorder.serverErrors();
  const failedCreates = recorder.failedCreates();
  lines.push(
    `goals: ${serverErrors} responses with status 5xx (goal 0) ${serverErrors === 0 ? 'met' : 'MISSED'}; ${failedCreates} failed creates (goal 0) ${failedCreates === 0 ? 'met' : 'MISSED'}`,
  );
  return lines;
}

export function snapshotLines(snapshots: HostSnapshot[]): string[] {
  const head = `  ${'at'.padEnd(10)} ${'MemAvail MB'.padStart(11)} ${'RSS MB'.padStart(7)} ${'fds'.padStart(6)} ${'threads'.padStart(7)} ${'host tasks'.padStart(10)} ${'pool file MB'.padStart(12)} ${'pool used MB'.padStart(12)} ${'addresses'.padStart(11)} ${'uid ranges'.padStart(10)} ${'cgroups'.padStart(7)} ${'charge MB'.padStart(9)}`;
  return [
    'host and daemon (addresses and uid ranges: claimed host-wide / all):',
    head,
    ...snapshots.map(
      (s) =>
        `  ${s.at.padEnd(10)} ${f0(s.memAvailableMb).padStart(11)} ${f1(s.daemonRssMb).padStart(7)} ${String(s.daemonFds).padStart(6)} ${String(s.daemonThreads).padStart(7)} ${String(s.hostTasks).padStart(10)} ${f0(s.poolFileMb).padStart(12)} ${f0(s.poolUsedMb).padStart(12)} ${(s.addresses ? `${s.addresses.used}/${s.addresses.total}` : '—').padStart(11)} ${(s.uidRanges ? `${s.uidRanges.used}/${s.uidRanges.total}` : '—').padStart(10)} ${String(s.spriteCgroups).padStart(7)} ${f0(s.spriteCgroupChargeMb).padStart(9)}`,
    ),
  ];
}

export function loadLines(r: LoadResult, recorder: Recorder, phaseLabels: string[]): string[] {
  const lines: string[] = [];
  if (r.create)
    lines.push(
      `created ${r.create.created} sprites in ${r.create.seconds.toFixed(1)} s (${r.create.failed} creates failed); churn: ${r.churnOps ?? 0} operations`,
    );
  if (r.latency) {
    lines.push(
      '',
      `latency of successful requests (ms) by phase of the sprite count`,
      `  ${'kind'.padEnd(20)} ${'sprites'.padEnd(16)} ${'n'.padStart(6)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}`,
    );
    for (const [kind, byPhase] of Object.entries(r.latency)) {
      for (const label of ['quiet', ...phaseLabels])
        if (byPhase[label]) lines.push(latencyRow(kind, label, byPhase[label]));
    }
    for (const kind of ['delete', 'checkpoint-delete']) lines.push(latencyRow(kind, 'all', recorder.summary(kind)));
  }
  if (r.list) {
    lines.push(
      '',
      `list: GET /v1/sprites?max_results=50 p50 ${f1(r.list.firstPage?.p50)} ms, p99 ${f1(r.list.firstPage?.p99)} ms; ` +
        `paging through all (${r.list.pages} page${r.list.pages === 1 ? '' : 's'} of 50, ${r.list.seen} sprites) p50 ${f1(r.list.walk?.p50)} ms, max ${f1(r.list.walk?.max)} ms; one page p50 ${f1(recorder.summary('list-page')?.p50)} ms`,
    );
  }
  if (r.idle) {
    const c = r.idle.counts;
    lines.push(
      `idle: ${r.idle.reached ? 'all' : 'NOT all'} sprites warm after ${(r.idle.waitedMs / 1000).toFixed(0)} s (running ${c?.running ?? '?'}, warm ${c?.warm ?? '?'}, cold ${c?.cold ?? '?'})`,
    );
  }
  if (r.memAvailablePerWarmSpriteMb !== undefined) {
    lines.push(
      `memory: MemAvailable drop per warm sprite ${f1(r.memAvailablePerWarmSpriteMb)} MB (baseline → all warm; other load on the host counts too); cgroup charge per sprite ${f1(r.cgroupChargePerSpriteMb)} MB`,
    );
  }
  if (r.restart) {
    const x = r.restart;
    lines.push(
      `restart: SIGTERM → exited ${f0(x.stopMs)} ms; start → ready ${f0(x.startToReadyMs)} ms (daemon's own startup ${f0(x.daemonStartupMs)} ms, re-adopted ${x.adopted ?? '?'}); ` +
        `ready → ${x.answered}/${x.sampled} sampled sprites answered an exec ${f0(x.readyToAllAnsweringMs)} ms; SIGTERM → all answered ${f0(x.totalMs)} ms; exec p50 ${f1(x.exec?.p50)} ms, max ${f1(x.exec?.max)} ms${x.error ? `; ${x.error}` : ''}`,
    );
  }
  if (r.deleteAll)
    lines.push(
      `delete all: ${r.deleteAll.deleted} sprites in ${r.deleteAll.seconds.toFixed(1)} s (DELETE p50 ${f1(recorder.summary('delete-all')?.p50)} ms, p99 ${f1(recorder.summary('delete-all')?.p99)} ms); ${r.deleteAll.remaining} left in the list`,
    );
  return lines;
}

export function capacityLines(r: CapacityResult): string[] {
  const lines: string[] = [];
  if (r.create) lines.push(`created ${r.create.created} sprites in ${r.create.seconds.toFixed(1)} s (goal ${r.goal})`);
  if (r.stop) {
    lines.push(
      r.stop.reason === 'failure'
        ? `stopped by a failed create: ${r.stop.message ?? String(r.stop.status)}${r.stop.cause ? `\n  the daemon logged: ${r.stop.cause}` : ''}\n  limit: ${r.stop.limit ?? '?'}`
        : `stopped: ${r.stop.reason === 'goal' ? 'the goal was reached' : 'interrupted'}`,
    );
  }
  if (r.idle) {
    const c = r.idle.counts;
    lines.push(
      `the host held ${r.held ?? '?'} ${r.counting} sprites (${r.idle.reached ? 'all' : 'NOT all'} ${r.counting} after ${(r.idle.waitedMs / 1000).toFixed(0)} s; running ${c?.running ?? '?'}, warm ${c?.warm ?? '?'}, cold ${c?.cold ?? '?'})`,
    );
  }
  const idle = r.snapshots.find((s) => s.at === 'idle') ?? r.snapshots.find((s) => s.at === 'at stop');
  if (idle) {
    lines.push(
      `then: MemAvailable ${f0(idle.memAvailableMb)} MB, daemon fds ${idle.daemonFds} of ${idle.daemonFdLimit}, ` +
        `addresses left ${idle.addresses ? idle.addresses.total - idle.addresses.used : '?'}, uid ranges left ${idle.uidRanges ? idle.uidRanges.total - idle.uidRanges.used : '?'}, host tasks ${idle.hostTasks} of pid_max ${idle.pidMax}`,
    );
  }
  if (r.deleteAll)
    lines.push(
      `delete all: ${r.deleteAll.deleted} sprites in ${r.deleteAll.seconds.toFixed(1)} s; ${r.deleteAll.remaining} left in the list`,
    );
  return lines;
}
