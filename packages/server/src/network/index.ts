export { parsePool, slotCount, slotAddresses, poolContains, type Pool, type SlotAddresses } from './ipam.js';
export { SlotFactory, type NetworkSlot, type SlotObserver } from './slot.js';
export { NftTable, enableForwarding } from './nft.js';
export { canonicalCidr, DENIED_V4 } from './egress.js';
export { netnsName, vethName, nftTableName, netnsPrefix, vethPrefix } from './names.js';
export { spriteResolvConf } from './resolv.js';
