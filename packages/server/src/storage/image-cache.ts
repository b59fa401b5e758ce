import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pidAlive } from '../host/index.js';

/**
 * What goes into a base image. Its hash names the cached build, so changing anything here
 * builds a new image and leaves old ones for the sprites that still use them.
 */
export interface ImageRecipe {
  suite: string;
  variant: 'minbase' | 'essential' | 'apt' | 'required' | 'important' | 'standard';
  mirror: string;
  packages: string[];
  /** Shell run with the root filesystem as $1 after the packages are installed. */
  customize: string[];
}

export const DEFAULT_IMAGE_RECIPE: ImageRecipe = {
  suite: 'bookworm',
  variant: 'minbase',
  mirror: 'http://deb.debian.org/debian',
  packages: ['bash', 'coreutils', 'procps', 'iproute2', 'curl', 'ca-certificates', 'git', 'python3', 'less', 'sudo'],
  customize: [
    'chroot "$1" useradd --create-home --uid 1000 --user-group --shell /bin/bash sprite',
    'printf "sprite ALL=(ALL) NOPASSWD:ALL\\n" > "$1/etc/sudoers.d/sprite" && chmod 0440 "$1/etc/sudoers.d/sprite"',
    // Lets sudo find the host name without DNS: the runtime writes /etc/hosts at start.
    'printf "Defaults !fqdn\\n" > "$1/etc/sudoers.d/00-no-fqdn" && chmod 0440 "$1/etc/sudoers.d/00-no-fqdn"',
    'mkdir -p "$1/.sprite" && rm -f "$1/etc/hostname"',
  ],
};

export function imageKey(recipe: ImageRecipe): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 32);
}

/**
 * A host-wide cache of built root filesystems (outside any one data dir), so several daemons
 * and test runs on one host build each recipe once. Concurrent builders wait on a lock.
 */
export class ImageCache {
  constructor(private readonly dir: string) {}

  rootfsPath(key: string): string {
    return join(this.dir, key, 'rootfs');
  }

  async has(key: string): Promise<boolean> {
    try {
      await stat(join(this.dir, key, 'complete'));
      return true;
    } catch {
      return false;
    }
  }

  /** Returns the cached root filesystem of `recipe`, building it first if needed. */
  async ensure(
    recipe: ImageRecipe,
    onProgress: (line: string) => void = () => undefined,
  ): Promise<{ key: string; rootfs: string }> {
    const key = imageKey(recipe);
    if (await this.has(key)) return { key, rootfs: this.rootfsPath(key) };
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const release = await this.lock(key, onProgress);
    try {
      if (!(await this.has(key))) await this.build(key, recipe, onProgress);
    } finally {
      await release();
    }
    return { key, rootfs: this.rootfsPath(key) };
  }

  private async lock(key: string, onProgress: (line: string) => void): Promise<() => Promise<void>> {
    const path = join(this.dir, `${key}.lock`);
    let announced = false;
    for (;;) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        return () => rm(path, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (holder > 0 && !pidAlive(holder)) {
        await rm(path, { force: true });
        continue;
      }
      if (!announced) {
        onProgress(`waiting for another process (pid ${holder}) building base image ${key.slice(0, 12)}`);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async build(key: string, recipe: ImageRecipe, onProgress: (line: string) => void): Promise<void> {
    const work = join(this.dir, `${key}.building`);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    const rootfs = join(work, 'rootfs');
    const args = [
      `--variant=${recipe.variant}`,
      '--mode=root',
      '--format=directory',
      `--include=${recipe.packages.join(',')}`,
      ...recipe.customize.map((c) => `--customize-hook=${c}`),
      recipe.suite,
      rootfs,
      recipe.mirror,
    ];
    onProgress(
      `building base image ${key.slice(0, 12)} (${recipe.suite}, ${recipe.packages.length} packages) with mmdebstrap; this takes about a minute, once per host`,
    );
    const started = Date.now();
    await runWithProgress('mmdebstrap', args, onProgress);
    await writeFile(join(work, 'recipe.json'), JSON.stringify(recipe, null, 2));
    await writeFile(join(work, 'complete'), new Date().toISOString());
    await rm(join(this.dir, key), { recursive: true, force: true });
    await rename(work, join(this.dir, key));
    onProgress(`base image ${key.slice(0, 12)} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Runs a long command and reports its progress lines ("I: ..." from mmdebstrap). */
function runWithProgress(file: string, args: string[], onProgress: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const take = (line: string) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (/^(I|W|E): /.test(line)) onProgress(`  ${line}`);
    };
    createInterface({ input: child.stdout }).on('line', take);
    createInterface({ input: child.stderr }).on('line', take);
    child.on('error', (e) =>
      reject(new Error(`${file}: ${e.message} (is it installed? run scripts/setup-host.sh)`, { cause: e })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${file} failed with exit code ${code}:\n${tail.join('\n')}`));
    });
  });
}
