import { describe, expect, it } from 'vitest';
import { API_DEFAULTS, ConfigError, DATABASE_DEFAULTS, DEFAULT_DATABASE_URL, loadApiConfig, loadDevStackConfig, loadWorkerConfig, requireSecretsKey } from '../../../platform/config';

describe(loadApiConfig.name, () => {
  it('runs with nothing configured', () => {
    expect(loadApiConfig({})).toEqual({
      databaseUrl: DEFAULT_DATABASE_URL,
      databasePoolMax: 10,
      databaseTimeouts: { connectTimeoutMs: DATABASE_DEFAULTS.connectTimeoutMs, statementTimeoutMs: DATABASE_DEFAULTS.statementTimeoutMs },
      logLevel: 'info',
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'rampart-rollouts', tls: null },
      secretsKey: null,
      webhooksAllowPrivate: false,
      port: 8080,
      host: '0.0.0.0',
      metricsPort: 9465,
      metricsHost: '127.0.0.1',
      tuning: API_DEFAULTS,
    });
  });

  it('reads the self-assignment limits', () => {
    expect(loadApiConfig({ RAMPART_SELF_ASSIGN_MAX_PER_APP: '10', RAMPART_SELF_ASSIGN_TTL_DAYS: '7' }).tuning.selfAssignment).toEqual({ maxPerApp: 10, ttlMs: 7 * 86_400_000 });
  });

  it('overrides the device rate limit field by field', () => {
    expect(loadApiConfig({ RAMPART_DEVICE_RATE_BURST: '60' }).tuning.deviceRateLimit).toEqual({ ...API_DEFAULTS.deviceRateLimit, burst: 60 });
    expect(() => loadApiConfig({ RAMPART_DEVICE_RATE_PER_SECOND: '0' })).toThrow(ConfigError);
  });

  it('reads the per-source limits and Express trust proxy', () => {
    expect(loadApiConfig({ RAMPART_SOURCE_NEW_DEVICES_PER_MINUTE: '0' }).tuning.sourceLimit).toEqual({ ...API_DEFAULTS.sourceLimit, newDevicesPerWindow: 0 });
    expect(loadApiConfig({}).tuning.trustProxy).toBe(false);
    expect(loadApiConfig({ RAMPART_TRUST_PROXY: 'true' }).tuning.trustProxy).toBe(true);
    expect(loadApiConfig({ RAMPART_TRUST_PROXY: '2' }).tuning.trustProxy).toBe(2);
    expect(loadApiConfig({ RAMPART_TRUST_PROXY: '10.0.0.0/8, loopback' }).tuning.trustProxy).toBe('10.0.0.0/8, loopback');
    expect(() => loadApiConfig({ RAMPART_SOURCE_EVENTS_PER_MINUTE: '-1' })).toThrow(ConfigError);
  });

  it('treats empty variables as unset and reads the rest', () => {
    const config = loadApiConfig({ PORT: '9090', DATABASE_URL: '', RAMPART_ADMIN_KEY: 'a-long-enough-admin-key', TEMPORAL_API_KEY: 'cloud-key' });
    expect(config).toMatchObject({ port: 9090, databaseUrl: DEFAULT_DATABASE_URL, adminKey: 'a-long-enough-admin-key' });
    expect(config.temporal).toMatchObject({ apiKey: 'cloud-key', tls: {} });
  });

  it('lists every problem at once', () => {
    try {
      loadApiConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', RAMPART_ADMIN_KEY: 'short', TEMPORAL_TLS: 'maybe' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const paths = (err as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(paths).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'RAMPART_ADMIN_KEY', 'TEMPORAL_TLS']));
    }
  });

  it('keeps rollups longer than raw events unless told otherwise', () => {
    expect(loadWorkerConfig({})).toMatchObject({ eventRetentionDays: 30, rollupRetentionDays: 400, eventPartitionsAhead: 2 });
    expect(loadWorkerConfig({ RAMPART_ROLLUP_RETENTION_DAYS: '90' }).rollupRetentionDays).toBe(90);
    expect(() => loadWorkerConfig({ RAMPART_ROLLUP_RETENTION_DAYS: '0' })).toThrow(/RAMPART_ROLLUP_RETENTION_DAYS/);
  });

  it('reads the secrets key and refuses to run without one, or with one of the wrong size', () => {
    const key = Buffer.alloc(32, 7);
    expect(requireSecretsKey(loadWorkerConfig({ RAMPART_SECRETS_KEY: key.toString('base64') }))).toEqual(key);
    expect(() => requireSecretsKey(loadApiConfig({}))).toThrow(/RAMPART_SECRETS_KEY: required/);
    expect(() => loadApiConfig({ RAMPART_SECRETS_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/32 random bytes/);
    expect(loadApiConfig({ RAMPART_WEBHOOKS_ALLOW_PRIVATE: 'true' }).tuning.webhooksAllowPrivate).toBe(true);
    expect(loadApiConfig({ RAMPART_SIGNING_KEY_OVERLAP_HOURS: '2' }).tuning.signingKeyOverlapMs).toBe(2 * 3600 * 1000);
  });

  it('keeps the insight rollups on unless told otherwise', () => {
    expect(loadApiConfig({}).tuning.insightRollups).toBe(true);
    expect(loadApiConfig({ RAMPART_INSIGHT_ROLLUPS: 'false' }).tuning.insightRollups).toBe(false);
    expect(() => loadApiConfig({ RAMPART_INSIGHT_ROLLUPS: 'sometimes' })).toThrow(/RAMPART_INSIGHT_ROLLUPS/);
  });

  it('insists on client certificate and key together', () => {
    expect(() => loadWorkerConfig({ TEMPORAL_TLS_CERT_PATH: '/tmp/cert.pem' })).toThrow(/must be set together/);
  });
});

describe(loadDevStackConfig.name, () => {
  it('puts the Temporal UI 1000 ports above the frontend unless told otherwise', () => {
    expect(loadDevStackConfig({ TEMPORAL_PORT: '7300' })).toMatchObject({ temporalPort: 7300, temporalUiPort: 8300, apiPort: 8080, forceEmbeddedPostgres: false });
    expect(loadDevStackConfig({ TEMPORAL_PORT: '7300', TEMPORAL_UI_PORT: '9000' }).temporalUiPort).toBe(9000);
  });

  it('refuses what it cannot use, naming each variable', () => {
    try {
      loadDevStackConfig({ PORT: 'http', RAMPART_EMBEDDED_POSTGRES: 'sometimes', RAMPART_ADMIN_KEY: 'short' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['PORT', 'RAMPART_ADMIN_KEY', 'RAMPART_EMBEDDED_POSTGRES']);
    }
  });
});
