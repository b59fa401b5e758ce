export { SpriteLifecycle } from './lifecycle.js';
export { RunAllocator } from './allocator.js';
export type { LifecycleContext } from './context.js';
export type { CreateSpriteInput } from './create.js';
export type { ReclaimSummary } from './reclaim-step.js';
export { SpritePaths, hostIdBase, ID_RANGE_BASE, ID_RANGE_SIZE } from './paths.js';
export { prepareAgentRuntime } from './agent-runtime.js';
export {
  agentRequest,
  waitForAgent,
  AGENT_ANSWER_MAX_BYTES,
  AGENT_HEADER_MAX_BYTES,
  type AgentResponse,
} from './agent-client.js';
export { ActivityTracker, type IdleSettings } from './activity.js';
export { ContainerWatch } from './watch.js';
export type { OrgLimitView } from './admission.js';
export type { OrgUsage } from './org-limits.js';
