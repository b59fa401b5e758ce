/** JSON schemas of request bodies and queries. Unknown fields are allowed and ignored. */

const urlSettings = {
  type: ['object', 'null'],
  properties: {
    auth: { type: 'string', enum: ['sprite', 'public'] },
    private_access: { type: 'string', maxLength: 1024 },
  },
} as const;

const labels = {
  type: 'array',
  maxItems: 64,
  items: { type: 'string', minLength: 1, maxLength: 128 },
} as const;

export const createSpriteBody = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    config: {
      type: ['object', 'null'],
      properties: {
        ram_mb: { type: 'integer' },
        cpus: { type: 'integer' },
        region: { type: 'string', maxLength: 64 },
        storage_gb: { type: 'integer' },
      },
    },
    environment: {
      type: ['object', 'null'],
      maxProperties: 256,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,255}$' },
      additionalProperties: { type: 'string', maxLength: 32768 },
    },
    labels: { anyOf: [labels, { type: 'null' }] },
    url_settings: urlSettings,
    wait_for_capacity: { type: ['boolean', 'null'] },
    runtime: { type: ['string', 'null'], maxLength: 64 },
  },
} as const;

export const updateSpriteBody = {
  type: 'object',
  properties: {
    url_settings: urlSettings,
    labels: { anyOf: [labels, { type: 'null' }] },
    clear_labels: { type: ['boolean', 'null'] },
  },
} as const;

export const listSpritesQuery = {
  type: 'object',
  properties: {
    max_results: { type: 'string', pattern: '^[0-9]{1,9}$' },
    continuation_token: { type: 'string', maxLength: 256 },
    prefix: { type: 'string', maxLength: 63 },
  },
} as const;

export const createOrganizationBody = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' } },
} as const;

export const createTokenBody = {
  type: ['object', 'null'],
  properties: {
    description: { type: ['string', 'null'], maxLength: 256 },
    invite_code: { type: ['string', 'null'], maxLength: 256 },
  },
} as const;
