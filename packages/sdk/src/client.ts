import type { CallOptions } from './abort.js';
import { spritePath, SPRITES_PATH, type ListSpritesResponse, type OrgInfo } from '@sprites/protocol';
import { HttpTransport } from './http.js';
import type { Platform, StreamKinds } from './platform.js';
import type { NodeStreamKinds } from './node/kinds.js';
import { Sprite } from './sprite.js';
import {
  configToWire,
  spriteInfoFromWire,
  urlSettingsToWire,
  type CreateSpriteOptions,
  type ListOptions,
  type SpriteConfig,
  type SpriteInfo,
  type SpriteListPage,
  type UpdateSpriteOptions,
  type URLSettings,
  type WireSpriteInfo,
} from './types.js';

/** Options of {@link SpritesClient}. */
export interface ClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:7070` (default `https://api.sprites.dev`). */
  baseURL?: string;
  /** Default timeout of plain requests in milliseconds (30 000). Streams and commands have none unless given. */
  timeout?: number;
}

const DEFAULT_BASE_URL = 'https://api.sprites.dev';
const CREATE_TIMEOUT_MS = 120_000;
const LIST_PAGE = 50;

/** The protocol's `ListSpritesResponse`, read leniently like the sprites in it. */
interface WireList extends Partial<Pick<ListSpritesResponse, 'has_more' | 'next_continuation_token'>> {
  sprites?: WireSpriteInfo[];
  org?: Partial<OrgInfo>;
}

const CONFIG_KEYS = new Set(['ramMB', 'cpus', 'region', 'storageGB']);

/**
 * The entry point: one client per API URL and token. `client.sprite(name)` gives a handle
 * without I/O; the other methods talk to the API. The runtime flavour (Node streams or web
 * streams) comes from the package entry you import.
 */
export class SpritesClient<K extends StreamKinds = NodeStreamKinds> {
  readonly baseURL: string;
  readonly token: string;
  readonly timeout: number;
  /** @internal */
  readonly transport: HttpTransport;
  /** @internal */
  readonly platform: Platform<K>;

  /** @internal The package entries pass their platform; use `new SpritesClient(token, options)`. */
  constructor(token: string, options: ClientOptions, platform: Platform<K>) {
    if (typeof token !== 'string' || token === '')
      throw new TypeError('a token is required: new SpritesClient(token, { baseURL })');
    this.token = token;
    this.baseURL = (options.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.timeout = options.timeout ?? 30_000;
    this.transport = new HttpTransport(this.baseURL, token, this.timeout);
    this.platform = platform;
  }

  /** A handle on a sprite by name; no request is made. */
  sprite(name: string): Sprite<K> {
    return new Sprite(name, this);
  }

  /**
   * Creates a sprite and resolves once it runs. Pass options (`{ config, environment,
   * labels, urlSettings }`) or, as the official SDK also allows, just a config.
   */
  async createSprite(name: string, options: CreateSpriteOptions | SpriteConfig = {}): Promise<Sprite<K>> {
    const keys = Object.keys(options);
    const opts: CreateSpriteOptions =
      keys.length > 0 && keys.every((k) => CONFIG_KEYS.has(k))
        ? { config: options as SpriteConfig }
        : (options as CreateSpriteOptions);
    const body: Record<string, unknown> = { name };
    if (opts.config) body.config = configToWire(opts.config);
    if (opts.environment) body.environment = opts.environment;
    if (opts.labels) body.labels = opts.labels;
    if (opts.urlSettings) body.url_settings = urlSettingsToWire(opts.urlSettings);
    if (opts.waitForCapacity !== undefined) body.wait_for_capacity = opts.waitForCapacity;
    const info = await this.transport.json<WireSpriteInfo>('POST', SPRITES_PATH, {
      json: body,
      expect: [201],
      signal: opts.signal,
      timeout: opts.timeout ?? CREATE_TIMEOUT_MS,
    });
    return new Sprite(info.name ?? name, this, spriteInfoFromWire({ name, ...info }));
  }

  /** The sprite's current fields; a missing sprite rejects with an APIError whose status is 404. */
  async getSprite(name: string, options: CallOptions = {}): Promise<Sprite<K>> {
    return new Sprite(name, this, await this.getSpriteInfo(name, options));
  }

  /** @internal */
  async getSpriteInfo(name: string, options: CallOptions = {}): Promise<SpriteInfo> {
    return spriteInfoFromWire(
      await this.transport.json<WireSpriteInfo>('GET', spritePath('sprite', { name }), options),
    );
  }

  /** One page of sprites (`maxResults`, then `continuationToken` for the next). */
  async listSprites(options: ListOptions = {}): Promise<SpriteListPage<Sprite<K>>> {
    const w = await this.transport.json<WireList>('GET', SPRITES_PATH, {
      query: { prefix: options.prefix, max_results: options.maxResults, continuation_token: options.continuationToken },
      signal: options.signal,
      timeout: options.timeout,
    });
    const page: SpriteListPage<Sprite<K>> = {
      sprites: (w.sprites ?? []).map((s) => new Sprite(s.name ?? '', this, spriteInfoFromWire(s))),
      hasMore: w.has_more === true,
    };
    if (w.next_continuation_token) page.nextContinuationToken = w.next_continuation_token;
    if (w.org) {
      page.organizationName = w.org.name;
      page.running = w.org.running;
      page.warm = w.org.warm;
      page.cold = w.org.cold;
      page.runningLimit = w.org.running_limit;
      page.warmLimit = w.org.warm_limit;
    }
    return page;
  }

  /** Every sprite (optionally with a name prefix), following pages. */
  async listAllSprites(prefix?: string, options: CallOptions = {}): Promise<Sprite<K>[]> {
    const all: Sprite<K>[] = [];
    let token: string | undefined;
    for (;;) {
      const page = await this.listSprites({ prefix, maxResults: LIST_PAGE, continuationToken: token, ...options });
      all.push(...page.sprites);
      if (!page.hasMore || !page.nextContinuationToken) return all;
      token = page.nextContinuationToken;
    }
  }

  /** Deletes a sprite with its disk and checkpoints. */
  async deleteSprite(name: string, options: CallOptions = {}): Promise<void> {
    await this.transport.empty('DELETE', spritePath('sprite', { name }), { expect: [200, 204], ...options });
  }

  /** Restarts a sprite on the platform version the server runs now. */
  async upgradeSprite(name: string, options: CallOptions = {}): Promise<void> {
    await this.transport.empty('POST', spritePath('upgrade', { name }), {
      expect: [200, 204],
      timeout: 60_000,
      ...options,
    });
  }

  /** Changes labels and/or URL settings; resolves the updated sprite. */
  async updateSprite(name: string, options: UpdateSpriteOptions): Promise<Sprite<K>> {
    return new Sprite(name, this, await this.updateSpriteInfo(name, options));
  }

  /** @internal */
  async updateSpriteInfo(name: string, options: UpdateSpriteOptions): Promise<SpriteInfo> {
    if (options.urlSettings === undefined && options.labels === undefined && !options.clearLabels) {
      throw new TypeError('updateSprite needs urlSettings, labels or clearLabels');
    }
    const body: Record<string, unknown> = {};
    if (options.urlSettings !== undefined) body.url_settings = urlSettingsToWire(options.urlSettings);
    if (options.labels !== undefined) body.labels = options.labels;
    if (options.clearLabels) body.clear_labels = true;
    return spriteInfoFromWire(
      await this.transport.json<WireSpriteInfo>('PUT', spritePath('sprite', { name }), {
        json: body,
        signal: options.signal,
        timeout: options.timeout,
      }),
    );
  }

  /**
   * A raw authenticated request to any API path (the CLI's `sprite api`): the Response as it
   * came, whatever its status. The caller reads or cancels the body.
   */
  async request(
    method: string,
    path: string,
    init: { body?: string | Uint8Array; headers?: Record<string, string> } & CallOptions = {},
  ): Promise<Response> {
    const all = Array.from({ length: 500 }, (_, i) => i + 100);
    const { response, deadline } = await this.transport.send(method, path.startsWith('/') ? path : `/${path}`, {
      body: init.body,
      headers: init.headers,
      expect: all,
      streaming: true,
      signal: init.signal,
      timeout: init.timeout,
    });
    void deadline;
    return response;
  }

  /** Who may open the sprite's URL. */
  async updateURLSettings(name: string, settings: URLSettings, options: CallOptions = {}): Promise<void> {
    await this.updateSpriteInfo(name, { urlSettings: settings, ...options });
  }
}
