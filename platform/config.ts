import { z } from 'zod';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../domain/time';
import { SECRETS_KEY_BYTES } from './secret-box';

/** Express's `trust proxy` setting, as `RAMPART_TRUST_PROXY` gives it. */
export type TrustProxy = boolean | number | string;

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/rampart';
export const DEFAULT_TASK_QUEUE = 'rampart-rollouts';

/** Per-device token bucket across every device protocol. */
export interface DeviceRateLimitConfig {
  perSecond: number;
  burst: number;
  /** Devices whose buckets one instance remembers; the oldest are forgotten beyond it. */
  maxDevices: number;
}

/**
 * Per-source limits of the telemetry trust model (api/device/source-limiter.ts): what one client
 * address may bring per window. Behind a load balancer, set `trustProxy` so the address is the
 * client's and not the balancer's.
 */
export interface SourceLimitConfig {
  windowMs: number;
  /** Device ids new to this instance one source may bring per window; 0: no limit. */
  newDevicesPerWindow: number;
  /** Events one source may send per window (an update check counts one); 0: no limit. */
  eventsPerWindow: number;
  /** Sources one instance keeps budgets for; the oldest window goes beyond it. */
  maxSources: number;
  /** Loopback is a local proxy without `trustProxy`, a test or a benchmark, never a device. */
  exemptLoopback: boolean;
}

/** Device profiles kept behind the hot path (api/device/device-profiles.ts). */
export interface DeviceProfilesConfig {
  /** How often buffered sightings are written and queued engagement loads run. */
  flushIntervalMs: number;
  /** How long loaded engagement (sessions per week, days since first seen) is trusted. */
  cacheTtlMs: number;
  /** A device seen again with nothing changed is written at most this often. */
  sightingIntervalMs: number;
  /** Devices whose last written sighting, engagement and serving are remembered (~70 bytes each, off the JS heap). */
  maxCachedDevices: number;
  /** Distinct versions (and, apart, platforms, channels and releases) remembered to compare sightings by. */
  maxRememberedStrings: number;
  /** Sightings, session counts and engagement loads waiting for the next batch; more are dropped (and counted). */
  maxBuffered: number;
}

/** Channels legacy Capgo plugins choose for themselves, which the server has to keep for them. */
export interface SelfAssignmentConfig {
  /** Stored self-assignments per app; beyond it, further devices are refused (each costs every instance memory). */
  maxPerApp: number;
  /** A self-assignment not renewed within this is forgotten: the device is served as if it had never chosen. */
  ttlMs: number;
}

/** Admin API keys looked up recently, by hash: a revoked key keeps working for at most `ttlMs`. */
export interface ApiKeyCacheConfig {
  ttlMs: number;
  maxEntries: number;
}

/**
 * Defaults of the API's tuning. A device checks every few minutes; bursts cover an app start (check,
 * channel, stats) and retries. Engagement moves slowly, so a profile loaded half an hour ago is fine.
 */
export const API_DEFAULTS = {
  snapshotReconcileMs: 30_000,
  // Buckets live in a device table, ~32 bytes each off the JS heap: millions of devices per instance.
  deviceRateLimit: { perSecond: 1, burst: 30, maxDevices: 2_000_000 } satisfies DeviceRateLimitConfig,
  // A carrier NAT puts many real devices behind one address: the limits stop mass forgery, not fleets.
  sourceLimit: { windowMs: MINUTE_MS, newDevicesPerWindow: 1000, eventsPerWindow: 60_000, maxSources: 100_000, exemptLoopback: true } satisfies SourceLimitConfig,
  /** Express `trust proxy`: false (the socket's address), true, a hop count, or addresses and subnets of the proxies. */
  trustProxy: false as TrustProxy,
  deviceProfiles: {
    flushIntervalMs: 1000,
    cacheTtlMs: 30 * MINUTE_MS,
    sightingIntervalMs: 10 * MINUTE_MS,
    maxCachedDevices: 2_000_000,
    maxRememberedStrings: 10_000,
    maxBuffered: 50_000,
  } satisfies DeviceProfilesConfig,
  selfAssignment: { maxPerApp: 100_000, ttlMs: 90 * DAY_MS } satisfies SelfAssignmentConfig,
  apiKeyCache: { ttlMs: 10_000, maxEntries: 1000 } satisfies ApiKeyCacheConfig,
  /** Events per group-committed write of telemetry. */
  telemetryMaxBatch: 5000,
  /**
   * Whether ingestion adds to the release rollups that insight, adoption and the release gauges read.
   * Off only to measure what they cost (`npm run bench`) or to shed their load in an emergency: events
   * ingested meanwhile are stored but never reach the rollups.
   */
  insightRollups: true,
  /** How long a release page waits for the workflow's live state before showing the published one. */
  temporalQueryTimeoutMs: 5000,
  /** How long a release start or an on-call command may take before the API answers 503 (worker or Temporal down). */
  temporalCommandTimeoutMs: 10_000,
  /** `Retry-After` of a 503 (a dependency down, ingestion shedding load). */
  unavailableRetryAfterSeconds: 5,
  /** Telemetry events waiting for the group commit; beyond, ingestion sheds with 503 instead of growing. */
  telemetryMaxQueued: 50_000,
  /** Development and tests only: http and loopback or private receivers (never link-local or metadata). */
  webhooksAllowPrivate: false,
  /** How long a rotated signing key stays published: devices that cached it verify answers meanwhile. */
  signingKeyOverlapMs: 7 * DAY_MS,
  /** Live release pages (Server-Sent Events): open streams per API instance, and the keep-alive period. */
  releaseEvents: { maxClients: 200, heartbeatMs: 15_000 } satisfies ReleaseEventsConfig,
} as const;

export const WORKER_DEFAULTS = {
  /** How often the retention job looks for telemetry past its retention. */
  retentionIntervalMs: HOUR_MS,
  /** Daily partitions of raw events kept ready, from today on: a day's writes never wait for one. */
  eventPartitionsAhead: 2,
  eventRetentionDays: 30,
  /** Rollups answer the insights API long after raw events are gone. */
  rollupRetentionDays: 400,
  /** How often the reconciler looks for releases whose workflow closed without finishing them. */
  reconcileIntervalMs: 30_000,
  /** A release row without a workflow is a failed start only after this (the API writes the row first). */
  releaseStartGraceMs: 2 * MINUTE_MS,
  /** Releases in flight the reconciler checks per pass. */
  reconcileBatch: 500,
  /** How long the reconciler waits for Temporal to describe one workflow. */
  temporalDescribeTimeoutMs: 5000,
  /** The webhook outbox drainer: deliveries in flight at once, and how often it looks for due ones. */
  webhookOutbox: { concurrency: 16, pollMs: 500 },
  /**
   * The segment notification dispatcher: how often it looks for growths to prepare, the devices it
   * reads per page of an audience (its memory per growth: ~1 kB each), the attempts before a growth
   * is given up (retried 2 s, 4 s, … apart: about four minutes in all), and the lease of a claim
   * (renewed by every page).
   */
  segmentNotifications: { pollMs: 500, pageSize: 10_000, maxAttempts: 8, leaseMs: 5 * MINUTE_MS },
} as const;

/**
 * Bounds on PostgreSQL for both processes: an unreachable server fails a request after
 * `connectTimeoutMs` (also the longest wait for a free pooled connection) and a statement is
 * cancelled by the server after `statementTimeoutMs`, instead of holding requests for ever.
 */
export const DATABASE_DEFAULTS = { poolMax: 10, connectTimeoutMs: 5000, statementTimeoutMs: 15_000 } as const;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const temporalSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CA_PATH: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
});

const secretsKey = z
  .string()
  .transform((v) => Buffer.from(v, 'base64'))
  .refine((key) => key.length === SECRETS_KEY_BYTES, `must be ${SECRETS_KEY_BYTES} random bytes in base64 (openssl rand -base64 32)`);

const commonSchema = temporalSchema.extend({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default(DEFAULT_DATABASE_URL),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(DATABASE_DEFAULTS.poolMax),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(DATABASE_DEFAULTS.connectTimeoutMs),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(DATABASE_DEFAULTS.statementTimeoutMs),
  LOG_LEVEL: logLevel.default('info'),
  RAMPART_SECRETS_KEY: secretsKey.optional(),
  RAMPART_WEBHOOKS_ALLOW_PRIVATE: bool.default(false),
});

const apiSchema = commonSchema.extend({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  RAMPART_ADMIN_KEY: z.string().min(16, 'use at least 16 characters').optional(),
  SNAPSHOT_RECONCILE_MS: z.coerce.number().int().min(1000).default(API_DEFAULTS.snapshotReconcileMs),
  RAMPART_DEVICE_RATE_PER_SECOND: z.coerce.number().positive().max(10_000).optional(),
  RAMPART_DEVICE_RATE_BURST: z.coerce.number().int().min(1).max(100_000).optional(),
  RAMPART_TRUST_PROXY: z
    .string()
    .min(1)
    .transform((v): TrustProxy => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v))
    .optional(),
  RAMPART_SOURCE_NEW_DEVICES_PER_MINUTE: z.coerce.number().int().min(0).max(10_000_000).optional(),
  RAMPART_SOURCE_EVENTS_PER_MINUTE: z.coerce.number().int().min(0).max(100_000_000).optional(),
  RAMPART_SIGNING_KEY_OVERLAP_HOURS: z.coerce.number().min(0).max(24 * 365).optional(),
  RAMPART_API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).optional(),
  API_METRICS_PORT: port.default(9465),
  API_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  RAMPART_SELF_ASSIGN_MAX_PER_APP: z.coerce.number().int().min(0).max(10_000_000).default(API_DEFAULTS.selfAssignment.maxPerApp),
  RAMPART_SELF_ASSIGN_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(API_DEFAULTS.selfAssignment.ttlMs / DAY_MS),
  RAMPART_INSIGHT_ROLLUPS: bool.default(API_DEFAULTS.insightRollups),
});

const workerSchema = commonSchema.extend({
  WORKER_METRICS_PORT: port.default(9464),
  WORKER_HOST: z.string().min(1).default('0.0.0.0'),
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  RAMPART_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(WORKER_DEFAULTS.eventRetentionDays),
  RAMPART_ROLLUP_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(WORKER_DEFAULTS.rollupRetentionDays),
  RAMPART_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).max(DAY_MS).default(WORKER_DEFAULTS.reconcileIntervalMs),
  RAMPART_RELEASE_START_GRACE_MS: z.coerce.number().int().min(1000).max(DAY_MS).default(WORKER_DEFAULTS.releaseStartGraceMs),
});

/** The variables each process reads; deployment files that set any other one set it for nothing. */
export const API_ENV_NAMES: readonly string[] = Object.keys(apiSchema.shape);
export const WORKER_ENV_NAMES: readonly string[] = Object.keys(workerSchema.shape);

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  tls: { certPath?: string; keyPath?: string; caPath?: string } | null;
  apiKey?: string;
}

export interface CommonConfig {
  databaseUrl: string;
  databasePoolMax: number;
  databaseTimeouts: { connectTimeoutMs: number; statementTimeoutMs: number };
  logLevel: z.infer<typeof logLevel>;
  temporal: TemporalConfig;
  /** Seals credentials at rest; null when unset, which `requireSecretsKey` refuses at start. */
  secretsKey: Buffer | null;
  webhooksAllowPrivate: boolean;
}

/** How the API process behaves, apart from where it connects: what `createApi` takes. */
export interface ReleaseEventsConfig {
  maxClients: number;
  heartbeatMs: number;
}

export interface ApiTuning {
  snapshotReconcileMs: number;
  releaseEvents: ReleaseEventsConfig;
  deviceRateLimit: DeviceRateLimitConfig;
  sourceLimit: SourceLimitConfig;
  trustProxy: TrustProxy;
  deviceProfiles: DeviceProfilesConfig;
  selfAssignment: SelfAssignmentConfig;
  apiKeyCache: ApiKeyCacheConfig;
  telemetryMaxBatch: number;
  insightRollups: boolean;
  temporalQueryTimeoutMs: number;
  temporalCommandTimeoutMs: number;
  unavailableRetryAfterSeconds: number;
  telemetryMaxQueued: number;
  webhooksAllowPrivate: boolean;
  signingKeyOverlapMs: number;
}

/** Tuning as tests and scripts adjust it: any field, nested ones field by field. */
export interface ApiTuningOverrides {
  snapshotReconcileMs?: number;
  releaseEvents?: Partial<ReleaseEventsConfig>;
  deviceRateLimit?: Partial<DeviceRateLimitConfig>;
  sourceLimit?: Partial<SourceLimitConfig>;
  trustProxy?: TrustProxy;
  deviceProfiles?: Partial<DeviceProfilesConfig>;
  selfAssignment?: Partial<SelfAssignmentConfig>;
  apiKeyCache?: Partial<ApiKeyCacheConfig>;
  telemetryMaxBatch?: number;
  insightRollups?: boolean;
  temporalQueryTimeoutMs?: number;
  temporalCommandTimeoutMs?: number;
  unavailableRetryAfterSeconds?: number;
  telemetryMaxQueued?: number;
  webhooksAllowPrivate?: boolean;
  signingKeyOverlapMs?: number;
}

export function apiTuning(overrides: ApiTuningOverrides = {}): ApiTuning {
  return {
    ...API_DEFAULTS,
    ...overrides,
    deviceRateLimit: { ...API_DEFAULTS.deviceRateLimit, ...overrides.deviceRateLimit },
    sourceLimit: { ...API_DEFAULTS.sourceLimit, ...overrides.sourceLimit },
    deviceProfiles: { ...API_DEFAULTS.deviceProfiles, ...overrides.deviceProfiles },
    selfAssignment: { ...API_DEFAULTS.selfAssignment, ...overrides.selfAssignment },
    apiKeyCache: { ...API_DEFAULTS.apiKeyCache, ...overrides.apiKeyCache },
    releaseEvents: { ...API_DEFAULTS.releaseEvents, ...overrides.releaseEvents },
  };
}

export interface ApiConfig extends CommonConfig {
  port: number;
  host: string;
  /** `/metrics` (with `/healthz`, `/readyz`) on a port of its own, loopback unless told otherwise. */
  metricsPort: number;
  metricsHost: string;
  adminKey?: string;
  tuning: ApiTuning;
}

export interface WorkerConfig extends CommonConfig {
  metricsPort: number;
  host: string;
  workflowBundlePath?: string;
  webhookTimeoutMs: number;
  eventRetentionDays: number;
  rollupRetentionDays: number;
  eventPartitionsAhead: number;
  retentionIntervalMs: number;
  webhookOutbox: { concurrency: number; pollMs: number };
  segmentNotifications: SegmentNotificationsConfig;
  reconciler: ReconcilerConfig;
}

/** See `WORKER_DEFAULTS.segmentNotifications`. */
export interface SegmentNotificationsConfig {
  pollMs: number;
  pageSize: number;
  maxAttempts: number;
  leaseMs: number;
}

/** The worker's reconciler of releases whose workflow closed without finishing them. */
export interface ReconcilerConfig {
  intervalMs: number;
  startGraceMs: number;
  batch: number;
  describeTimeoutMs: number;
}

export function reconcilerConfig(overrides: Partial<ReconcilerConfig> = {}): ReconcilerConfig {
  return {
    intervalMs: WORKER_DEFAULTS.reconcileIntervalMs,
    startGraceMs: WORKER_DEFAULTS.releaseStartGraceMs,
    batch: WORKER_DEFAULTS.reconcileBatch,
    describeTimeoutMs: WORKER_DEFAULTS.temporalDescribeTimeoutMs,
    ...overrides,
  };
}

const devStackSchema = z.object({
  RAMPART_DATA_DIR: z.string().min(1).optional(),
  PORT: port.default(8080),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.optional(),
  WORKER_METRICS_PORT: port.default(9464),
  API_METRICS_PORT: port.default(9465),
  EMBEDDED_POSTGRES_PORT: port.default(54329),
  RAMPART_EMBEDDED_POSTGRES: bool.default(false),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  RAMPART_ADMIN_KEY: z.string().min(16, 'use at least 16 characters').optional(),
  RAMPART_SECRETS_KEY: secretsKey.optional(),
});

/** What `npm start` (scripts/dev-stack.ts) reads: where the local stack listens and what it reuses. */
export interface DevStackConfig {
  /** null: `.data` of the checkout. */
  dataDir: string | null;
  apiPort: number;
  temporalPort: number;
  temporalUiPort: number;
  workerMetricsPort: number;
  apiMetricsPort: number;
  embeddedPostgresPort: number;
  /** Always start the embedded PostgreSQL, even when a local server answers. */
  forceEmbeddedPostgres: boolean;
  databaseUrl: string | null;
  temporalAddress: string | null;
  temporalCliPath: string | null;
  adminKey: string | null;
  /** null: the key kept in `.data/secrets-key` (generated on first start). */
  secretsKey: Buffer | null;
}

/** Thrown at start when the environment is unusable; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function parse<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  // Empty variables count as unset, as in most twelve-factor tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return result.data;
}

function common(e: z.infer<typeof commonSchema>): CommonConfig {
  const tlsWanted = e.TEMPORAL_TLS || Boolean(e.TEMPORAL_TLS_CERT_PATH) || Boolean(e.TEMPORAL_API_KEY);
  const temporal: TemporalConfig = {
    address: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    tls: tlsWanted ? { certPath: e.TEMPORAL_TLS_CERT_PATH, keyPath: e.TEMPORAL_TLS_KEY_PATH, caPath: e.TEMPORAL_TLS_CA_PATH } : null,
  };
  if (e.TEMPORAL_API_KEY) temporal.apiKey = e.TEMPORAL_API_KEY;
  if (Boolean(e.TEMPORAL_TLS_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_KEY_PATH)) {
    throw new ConfigError(['TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together']);
  }
  return {
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseTimeouts: { connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS, statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS },
    logLevel: e.LOG_LEVEL,
    temporal,
    secretsKey: e.RAMPART_SECRETS_KEY ?? null,
    webhooksAllowPrivate: e.RAMPART_WEBHOOKS_ALLOW_PRIVATE,
  };
}

/**
 * Both processes refuse to start without the secrets key rather than store credentials in the clear
 * or invent a key that the other process and the next start would not know; `npm start` keeps one in `.data/`.
 */
export function requireSecretsKey(config: CommonConfig): Buffer {
  if (config.secretsKey) return config.secretsKey;
  throw new ConfigError([`RAMPART_SECRETS_KEY: required; ${SECRETS_KEY_BYTES} random bytes in base64 (openssl rand -base64 32), the same for every API and worker process`]);
}

export function loadApiConfig(env: Env): ApiConfig {
  const e = parse(apiSchema, env);
  const config: ApiConfig = {
    ...common(e),
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.API_METRICS_PORT,
    metricsHost: e.API_METRICS_HOST,
    tuning: apiTuning({
      snapshotReconcileMs: e.SNAPSHOT_RECONCILE_MS,
      selfAssignment: { maxPerApp: e.RAMPART_SELF_ASSIGN_MAX_PER_APP, ttlMs: e.RAMPART_SELF_ASSIGN_TTL_DAYS * DAY_MS },
      deviceRateLimit: {
        ...(e.RAMPART_DEVICE_RATE_PER_SECOND === undefined ? {} : { perSecond: e.RAMPART_DEVICE_RATE_PER_SECOND }),
        ...(e.RAMPART_DEVICE_RATE_BURST === undefined ? {} : { burst: e.RAMPART_DEVICE_RATE_BURST }),
      },
      sourceLimit: {
        ...(e.RAMPART_SOURCE_NEW_DEVICES_PER_MINUTE === undefined ? {} : { newDevicesPerWindow: e.RAMPART_SOURCE_NEW_DEVICES_PER_MINUTE }),
        ...(e.RAMPART_SOURCE_EVENTS_PER_MINUTE === undefined ? {} : { eventsPerWindow: e.RAMPART_SOURCE_EVENTS_PER_MINUTE }),
      },
      ...(e.RAMPART_TRUST_PROXY === undefined ? {} : { trustProxy: e.RAMPART_TRUST_PROXY }),
      webhooksAllowPrivate: e.RAMPART_WEBHOOKS_ALLOW_PRIVATE,
      insightRollups: e.RAMPART_INSIGHT_ROLLUPS,
      ...(e.RAMPART_SIGNING_KEY_OVERLAP_HOURS === undefined ? {} : { signingKeyOverlapMs: e.RAMPART_SIGNING_KEY_OVERLAP_HOURS * HOUR_MS }),
      ...(e.RAMPART_API_KEY_CACHE_SECONDS === undefined ? {} : { apiKeyCache: { ttlMs: e.RAMPART_API_KEY_CACHE_SECONDS * 1000 } }),
    }),
  };
  if (e.RAMPART_ADMIN_KEY) config.adminKey = e.RAMPART_ADMIN_KEY;
  return config;
}

export function loadDevStackConfig(env: Env): DevStackConfig {
  const e = parse(devStackSchema, env);
  return {
    dataDir: e.RAMPART_DATA_DIR ?? null,
    apiPort: e.PORT,
    temporalPort: e.TEMPORAL_PORT,
    // The dev server's own convention: its UI 1000 ports above the frontend.
    temporalUiPort: e.TEMPORAL_UI_PORT ?? e.TEMPORAL_PORT + 1000,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    apiMetricsPort: e.API_METRICS_PORT,
    embeddedPostgresPort: e.EMBEDDED_POSTGRES_PORT,
    forceEmbeddedPostgres: e.RAMPART_EMBEDDED_POSTGRES,
    databaseUrl: e.DATABASE_URL ?? null,
    temporalAddress: e.TEMPORAL_ADDRESS ?? null,
    temporalCliPath: e.TEMPORAL_CLI_PATH ?? null,
    adminKey: e.RAMPART_ADMIN_KEY ?? null,
    secretsKey: e.RAMPART_SECRETS_KEY ?? null,
  };
}

export function loadWorkerConfig(env: Env): WorkerConfig {
  const e = parse(workerSchema, env);
  const config: WorkerConfig = {
    ...common(e),
    metricsPort: e.WORKER_METRICS_PORT,
    host: e.WORKER_HOST,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    eventRetentionDays: e.RAMPART_EVENT_RETENTION_DAYS,
    rollupRetentionDays: e.RAMPART_ROLLUP_RETENTION_DAYS,
    eventPartitionsAhead: WORKER_DEFAULTS.eventPartitionsAhead,
    retentionIntervalMs: WORKER_DEFAULTS.retentionIntervalMs,
    reconciler: reconcilerConfig({ intervalMs: e.RAMPART_RECONCILE_INTERVAL_MS, startGraceMs: e.RAMPART_RELEASE_START_GRACE_MS }),
    webhookOutbox: { ...WORKER_DEFAULTS.webhookOutbox },
    segmentNotifications: { ...WORKER_DEFAULTS.segmentNotifications },
  };
  if (e.WORKFLOW_BUNDLE_PATH) config.workflowBundlePath = e.WORKFLOW_BUNDLE_PATH;
  return config;
}
