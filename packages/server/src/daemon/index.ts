export { startDaemon, type RunningDaemon } from './start.js';
export { API_URL_FILE } from './data-dir.js';
export { CLIENT_FD_SHARE, CLIENT_HEADERS_TIMEOUT_MS, CLIENT_MAX_HEADERS } from './public-server.js';
