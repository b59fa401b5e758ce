/**
 * Host-global names of network objects. Each carries the daemon's instance id so several
 * daemons coexist and reclaim only their own. Interface names must fit in 15 bytes.
 */
export const VETH_FAMILY_PREFIX = 'spr';

export function netnsName(instanceId: string, index: number): string {
  return `spr-${instanceId}-${index}`;
}

export function netnsPrefix(instanceId: string): string {
  return `spr-${instanceId}-`;
}

export function vethName(instanceId: string, index: number): string {
  const name = `${VETH_FAMILY_PREFIX}${instanceId}${index}`;
  if (name.length > 15)
    throw new Error(`interface name ${name} is longer than 15 bytes: use an instance id of at most 6 characters`);
  return name;
}

export function vethPrefix(instanceId: string): string {
  return `${VETH_FAMILY_PREFIX}${instanceId}`;
}

export function nftTableName(instanceId: string): string {
  return `sprites_${instanceId}`;
}
