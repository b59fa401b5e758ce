export { createUpgradeHandler, type UpgradeDeps, type UpgradeHandler } from './upgrade.js';
