export { SpriteUrlRouter, type UrlRouterDeps } from './router.js';
export { SessionSigner } from './auth.js';
