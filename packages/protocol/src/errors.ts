/**
 * The error model shared by server, agent and clients (PROTOCOL.md §2).
 * Every code has exactly one HTTP status: a code without one fails to compile.
 */
export const ErrorCode = {
  BadRequest: 'bad_request',
  InvalidJson: 'invalid_json',
  ValidationFailed: 'validation_failed',
  InvalidName: 'invalid_name',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  SpriteNotFound: 'sprite_not_found',
  OrganizationNotFound: 'organization_not_found',
  NameTaken: 'name_taken',
  Conflict: 'conflict',
  PayloadTooLarge: 'payload_too_large',
  UnsupportedMediaType: 'unsupported_media_type',
  MethodNotAllowed: 'method_not_allowed',
  SpriteNotReady: 'sprite_not_ready',
  CapacityExhausted: 'capacity_exhausted',
  /** The organization has as many sprites as its limit allows (delete one, or ask the operator). */
  SpriteLimitExceeded: 'sprite_limit_exceeded',
  /** The organization's storage limit (sum of its sprites' `storage_gb`) would be passed. */
  StorageLimitExceeded: 'storage_limit_exceeded',
  /** The organization has as many live (running or warm) sprites as it may, all of them busy. */
  ConcurrentSpriteLimitExceeded: 'concurrent_sprite_limit_exceeded',
  /** The organization's live sprites' memory (sum of `ram_mb`) would pass its limit. */
  MemoryLimitExceeded: 'memory_limit_exceeded',
  InternalError: 'internal_error',
  /**
   * A host command or call the daemon needed (ip, nft, the OCI runtime, btrfs, a mount)
   * failed; the request was undone and can be retried. The message names the operation.
   */
  HostError: 'host_error',
  /** The host's storage pool is full (or below its reserve): nothing new fits. */
  InsufficientStorage: 'insufficient_storage',
  /** The sprite's own disk quota (storage_gb) is used up; other sprites are unaffected. */
  QuotaExceeded: 'quota_exceeded',
  /** The sprite's agent or app answered badly or not at all (the sprite's fault, not ours). */
  BadGateway: 'bad_gateway',
  /** The sprite's agent or app did not answer within its deadline. */
  GatewayTimeout: 'gateway_timeout',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  invalid_name: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  sprite_not_found: 404,
  organization_not_found: 404,
  name_taken: 400,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  sprite_not_ready: 503,
  capacity_exhausted: 503,
  // What the organization keeps (sprites, disk) is refused for good until it deletes some:
  // 403, not a retryable 429. What it runs (live sprites, their memory) frees up as sprites
  // idle to cold: 429, as PROTOCOL §2.1 has it for the concurrent limit.
  sprite_limit_exceeded: 403,
  storage_limit_exceeded: 403,
  concurrent_sprite_limit_exceeded: 429,
  memory_limit_exceeded: 429,
  internal_error: 500,
  host_error: 503,
  insufficient_storage: 507,
  quota_exceeded: 507,
  bad_gateway: 502,
  gateway_timeout: 504,
};

/** The JSON body of every error response (PROTOCOL.md §2.1); all fields optional on the wire. */
export interface APIErrorBody {
  error: string;
  message: string;
  limit?: number;
  window_seconds?: number;
  retry_after_seconds?: number;
  current_count?: number;
  upgrade_available?: boolean;
  upgrade_url?: string;
  /** Server extension: the request id to quote when reporting a 500. */
  request_id?: string;
  /** Server extension: which input was wrong, for validation errors. */
  field?: string;
}

/** A typed error that knows its wire code; the API's error handler turns it into an APIErrorBody. */
export class SpriteError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Partial<APIErrorBody>;

  constructor(code: ErrorCode, message: string, options: { details?: Partial<APIErrorBody>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SpriteError';
    this.code = code;
    this.status = STATUS_BY_CODE[code];
    this.details = options.details ?? {};
  }

  toBody(): APIErrorBody {
    return { ...this.details, error: this.code, message: this.message };
  }
}
