export { DnsProxy, type Upstream } from './dns-proxy.js';
export { DNS_BOUNDS, type DnsBounds } from './dns-bounds.js';
export { PolicyEnforcer } from './enforcer.js';
export { PolicyService, type PolicySlot } from './service.js';
export { validatePolicy, type NetworkPolicy, type PolicyRule } from './rules.js';
