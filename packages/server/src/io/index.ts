export { BodyTooLargeError, DeadlineError, readBounded, type ReadBoundedOptions } from './bounded.js';
export { splice, SPLICE_CLOSE_GRACE_MS } from './splice.js';
