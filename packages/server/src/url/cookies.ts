/** One cookie's value from a Cookie header (null when absent or not decodable). */
export function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The Cookie header without ours (the app behind the URL never sees the login). */
export function withoutCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const rest = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith(`${name}=`));
  return rest.length > 0 ? rest.join('; ') : undefined;
}

/**
 * An app's Set-Cookie headers made safe for a shared parent domain: every cookie becomes
 * host-only (its `Domain` attribute is dropped), so one tenant's app cannot set or overwrite
 * cookies on other tenants' sprite URLs, and our own login cookie's name is refused.
 */
export function hostOnlySetCookies(values: string | string[] | undefined, reservedName: string): string[] {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  const out: string[] = [];
  for (const value of list) {
    const [pair = '', ...attributes] = value.split(';');
    const name = pair.slice(0, Math.max(0, pair.indexOf('='))).trim();
    if (name === reservedName) continue;
    const kept = attributes.filter((a) => a.trim().toLowerCase().split('=')[0]?.trim() !== 'domain');
    out.push([pair, ...kept].join(';'));
  }
  return out;
}
