// The way into a sprite from outside, shared by the API, the forwarded agent endpoints and
// sprite URLs: who the caller is (tokens), which sprite they name (lookup), and how a request
// refused early is answered (rejected upgrades, lingering closes).
export { authenticateHeader, tokenFrom, tokenFromProtocols, type Caller } from './tokens.js';
export { findSprite } from './lookup.js';
export { lingerClose, LINGER_MS, LINGER_MAX_BYTES } from './linger.js';
export { rejectUpgrade } from './reject.js';
