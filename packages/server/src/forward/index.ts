export { createUpgradeHandler, type UpgradeDeps } from './upgrade.js';
