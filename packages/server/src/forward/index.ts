export { createUpgradeHandler, type UpgradeDeps, type UpgradeHandler } from './upgrade.js';
export { httpForwardRoutes, type HttpForwardDeps } from './http.js';
