import { accessSync, constants, statSync } from 'node:fs';

/** Who runs a command and with what environment, unless the request says otherwise. */
export const SPRITE_USER = { name: 'sprite', uid: 1000, gid: 1000, home: '/home/sprite', shell: '/bin/bash' };

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The base environment of every command: the sprite user's, the sprite's own environment
 * (from create), then the request's `env` entries, which win.
 */
export function commandEnvironment(
  spriteEnv: Record<string, string>,
  requestEnv: Record<string, string>,
): Record<string, string> {
  return {
    PATH: DEFAULT_PATH,
    HOME: SPRITE_USER.home,
    USER: SPRITE_USER.name,
    LOGNAME: SPRITE_USER.name,
    SHELL: SPRITE_USER.shell,
    LANG: 'C.UTF-8',
    ...spriteEnv,
    ...requestEnv,
  };
}

/** Resolves argv[0] against PATH the way execvp would, so the error can say what is missing. */
export function resolveCommand(command: string, path: string, exists: (p: string) => boolean): string | null {
  if (command.includes('/')) return exists(command) ? command : null;
  for (const dir of path.split(':')) {
    const candidate = `${dir || '.'}/${command}`;
    if (exists(candidate)) return candidate;
  }
  return null;
}

/** True for a regular file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
