export { createUpgradeHandler, type UpgradeDeps, type UpgradeHandler } from './upgrade.js';
export { forwardedInFlight, httpForwardRoutes, type HttpForwardDeps } from './http.js';
