export { BodyTooLargeError, DeadlineError, readBounded, type ReadBoundedOptions } from './bounded.js';
