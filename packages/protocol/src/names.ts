/** Sprite and organization names: lowercase letters, digits and dashes, 1–63 characters. */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const NAME_MAX_LENGTH = 63;

/** Why a name is not acceptable, or null when it is. Messages say what to do. */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'name must be a string';
  if (name.length === 0) return 'name must not be empty';
  if (name.length > NAME_MAX_LENGTH) return `name must be at most ${NAME_MAX_LENGTH} characters (got ${name.length})`;
  if (!NAME_PATTERN.test(name)) {
    return 'name may contain only lowercase letters, digits and dashes, and must start and end with a letter or digit';
  }
  return null;
}
