#!/usr/bin/env node
import { ConfigError, HELP, loadConfig } from './config.js';
import { startDaemon } from './daemon/index.js';
import { createLogger } from './log.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`spritesd: ${(e as Error).message}\nRun spritesd --help for usage.\n`);
    process.exit(2);
  }
  if (config === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('spritesd: must run as root (it manages mounts, namespaces, cgroups and nftables)\n');
    process.exit(1);
  }
  const log = createLogger(config.logLevel);
  const stopSprites = config.stopSpritesOnExit;
  // Handlers go in before startup: a signal that arrives while the daemon starts (or right
  // after it says it is ready) must still shut it down cleanly, never kill it half-way.
  let signalled = false;
  const daemonStarted = startDaemon(config, log);
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    log.info(
      { signal, stopSprites },
      `received ${signal}: shutting down${stopSprites ? ' and stopping sprites' : '; running sprites keep running'}`,
    );
    // Keeps the event loop alive until shutdown is done: once the server is closed nothing
    // else may hold it, and Node would exit in the middle of releasing host resources.
    setInterval(() => undefined, 60_000);
    daemonStarted
      .then((daemon) => daemon.close(stopSprites))
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await daemonStarted;
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`spritesd: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `spritesd: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  if (err instanceof Error && err.cause)
    process.stderr.write(`caused by: ${String((err.cause as Error).message ?? err.cause)}\n`);
  process.exit(1);
});
