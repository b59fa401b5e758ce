/**
 * The environment knobs of `npm run bench:scale`, read once. Defaults are what the
 * 1,000-sprite run uses; small values are for trying the bench out.
 */
export interface ScaleKnobs {
  mode: 'load' | 'capacity';
  /** Load mode: sprites to create. */
  sprites: number;
  /** Creates in flight at once. */
  concurrency: number;
  /** Load mode: workers exec'ing, checkpointing, writing files and re-creating meanwhile. */
  churnWorkers: number;
  /** Load mode: seconds the churn goes on once all sprites exist (the "at N" window). */
  steadySeconds: number;
  /** Capacity mode: stop creating at this many sprites. */
  goalWarm: number;
  /** Capacity mode: if > 0, count cold sprites instead: sprites idle to cold quickly and creation goes on to this many. */
  cold: number;
  /** --pool-size of the daemon (a sparse file: what it holds on the host disk is far less). */
  poolSize: string;
  idleWarmSeconds: number;
  idleColdSeconds: number;
  /** Deadline of one request (a create, an exec, a checkpoint stream…). */
  requestTimeoutMs: number;
  /** Sprites sampled with an exec after the daemon restart. */
  restartSample: number;
  ramMb: number;
  storageGb: number;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${text} is not a non-negative number`);
  return value;
}

/**
 * Pool size for `count` sprites. Quotas do not reserve space (ADR 0011): what counts is
 * what sprites write. Measured with 120 sprites under churn: the base image 162 MB, then
 * about 0.3 MB more per sprite (its volume and quota group, the churn's file and its one
 * checkpoint); 8 MB a sprite over 4 GB leaves ten times that. The pool is a sparse file, so
 * this bounds rather than takes host disk (it held 650 MB with 120 sprites).
 */
export function defaultPoolSize(count: number): string {
  return `${Math.max(8, Math.ceil(4 + (count * 8) / 1024))}G`;
}

/** How many sprites the run means to have at most. */
export function spriteTarget(k: ScaleKnobs): number {
  return k.mode === 'load' ? k.sprites : k.cold > 0 ? k.cold : k.goalWarm;
}

export function readKnobs(env: NodeJS.ProcessEnv = process.env): ScaleKnobs {
  const mode = env.SCALE_MODE === 'capacity' ? 'capacity' : 'load';
  if (env.SCALE_MODE && env.SCALE_MODE !== 'capacity' && env.SCALE_MODE !== 'load')
    throw new Error(`SCALE_MODE=${env.SCALE_MODE} must be load or capacity`);
  const sprites = Math.floor(num(env, 'SCALE_SPRITES', 1000));
  const goalWarm = Math.floor(num(env, 'SCALE_GOAL_WARM', 2000));
  const cold = Math.floor(num(env, 'SCALE_COLD', 0));
  const most = mode === 'load' ? sprites : cold > 0 ? cold : goalWarm;
  return {
    mode,
    sprites,
    concurrency: Math.max(1, Math.floor(num(env, 'SCALE_CONCURRENCY', 8))),
    churnWorkers: Math.floor(num(env, 'SCALE_CHURN_WORKERS', 4)),
    steadySeconds: num(env, 'SCALE_STEADY_SECONDS', 30),
    goalWarm,
    cold,
    poolSize: env.SCALE_POOL_SIZE || defaultPoolSize(most),
    // Load mode: sprites freeze during the run (so churn meets warm sprites) and never go
    // cold. Capacity mode: they freeze soon after their create; with SCALE_COLD they stop soon after.
    idleWarmSeconds: num(
      env,
      'SCALE_IDLE_WARM_SECONDS',
      mode === 'capacity' && cold > 0 ? 2 : mode === 'capacity' ? 5 : 10,
    ),
    idleColdSeconds: num(env, 'SCALE_IDLE_COLD_SECONDS', mode === 'capacity' && cold > 0 ? 6 : 7 * 24 * 3600),
    requestTimeoutMs: num(env, 'SCALE_REQUEST_TIMEOUT_MS', 120_000),
    restartSample: Math.floor(num(env, 'SCALE_RESTART_SAMPLE', 20)),
    ramMb: 256,
    storageGb: 1,
  };
}
