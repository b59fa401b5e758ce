/**
 * Bearer tokens on WebSockets from browsers (PROTOCOL.md §3): a browser cannot set headers on
 * a WebSocket, so it offers two sub-protocols, `sprites` and `sprites.bearer.<base64url
 * token>`. The daemon takes the token out, and the connection settles on `sprites`.
 */

/** The sub-protocol that carries no secret; the server answers with it. */
export const TOKEN_PROTOCOL = 'sprites';
/** Prefix of the sub-protocol that carries the bearer token, base64url-encoded (no padding). */
export const TOKEN_PROTOCOL_PREFIX = 'sprites.bearer.';
/** The characters of an encoded token (base64url without padding). */
export const TOKEN_PROTOCOL_ENCODING = /^[A-Za-z0-9_-]+$/;

/** The sub-protocols a client offers to carry `token` (UTF-8, base64url). */
export function tokenProtocols(token: string): [typeof TOKEN_PROTOCOL, string] {
  let binary = '';
  for (const byte of new TextEncoder().encode(token)) binary += String.fromCharCode(byte);
  const encoded = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return [TOKEN_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${encoded}`];
}

/**
 * Finds the token carrier in a `Sec-WebSocket-Protocol` header: its encoded token, and the
 * header's other sub-protocols (what the agent is offered instead; `sprites` when none is
 * left). Null when no well-formed carrier is offered. Decoding is the server's (base64url).
 */
export function splitTokenProtocols(header: string | undefined): { encoded: string; rest: string } | null {
  if (!header) return null;
  const offered = header
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const carrier = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  if (!carrier) return null;
  const encoded = carrier.slice(TOKEN_PROTOCOL_PREFIX.length);
  if (!TOKEN_PROTOCOL_ENCODING.test(encoded)) return null;
  const rest = offered.filter((p) => p !== carrier);
  return { encoded, rest: (rest.length > 0 ? rest : [TOKEN_PROTOCOL]).join(', ') };
}
