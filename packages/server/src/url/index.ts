export { SpriteUrlRouter, APP_CONNECT_TIMEOUT_MS, APP_IDLE_TIMEOUT_MS, type UrlRouterDeps } from './router.js';
export { SessionSigner, safeNext } from './auth.js';
export { hostOnlySetCookies } from './cookies.js';
