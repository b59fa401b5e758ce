// Everything both package entries export; each entry adds its own SpritesClient.
export type { CallOptions } from './abort.js';
export { CheckpointStream, ProgressStream, RestoreStream } from './checkpoints.js';
export type { ClientOptions } from './client.js';
export {
  AbortError,
  APIError,
  ConnectionError,
  ERR_CODE_CONCURRENT_LIMIT_EXCEEDED,
  ERR_CODE_CREATION_RATE_LIMITED,
  ExecError,
  ExitError,
  FilesystemError,
  isAPIError,
  isRateLimitError,
  parseAPIError,
  type APIErrorDetails,
  type ExecResult,
  type FilesystemErrorCode,
} from './errors.js';
export type { ExecOptions, HTTPExecOptions, SpawnOptions } from './exec/child.js';
export { Cmd, type CommandOptions } from './exec/cmd.js';
export { StreamID, type PortNotification, type ServerMessage, type SessionInfo } from './exec/frames.js';
export {
  SpriteFilesystem,
  type ChmodOptions,
  type ChownOptions,
  type CopyFileOptions,
  type Dirent,
  type MkdirOptions,
  type ReadFileOptions,
  type ReaddirOptions,
  type RenameOptions,
  type RmOptions,
  type Stats,
  type WriteFileOptions,
} from './fs/filesystem.js';
export { FilesystemWatcher, type FilesystemWatchEvent, type FilesystemWatchOptions } from './fs/watch.js';
export type { InputSource, PortMapping, StreamKinds, WebStreamKinds } from './platform.js';
export type { NodeStreamKinds } from './node/kinds.js';
export { SessionKillStream } from './sessions.js';
export type { NetworkPolicy, PolicyRule } from './policy.js';
export {
  ServiceLogStream,
  type Service,
  type ServiceLogEvent,
  type ServiceRequest,
  type ServiceState,
  type ServiceWithState,
} from './services.js';
export { parseAddress, type Tunnel } from './tunnel.js';
export { Sprite } from './sprite.js';
export { NDJSONStream } from './streams/ndjson.js';
export type {
  Checkpoint,
  CreateSpriteOptions,
  ListCheckpointsOptions,
  ListOptions,
  OrganizationInfo,
  Session,
  SessionKillEvent,
  SpriteConfig,
  SpriteInfo,
  SpriteListPage,
  StreamMessage,
  UpdateSpriteOptions,
  URLSettings,
} from './types.js';
