export { handleFsRequest } from './http.js';
export { FsError } from './errors.js';
export { serveFsWatch } from './watch.js';
