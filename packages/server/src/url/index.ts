export { SpriteUrlRouter, type UrlRouterDeps } from './router.js';
export { SessionSigner } from './session.js';
export { APP_CONNECT_TIMEOUT_MS } from './dial.js';
export { APP_IDLE_TIMEOUT_MS } from './proxy-http.js';
