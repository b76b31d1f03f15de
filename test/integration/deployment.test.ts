import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { API_ENV_NAMES, WORKER_ENV_NAMES, loadApiConfig, loadWorkerConfig, type CommonConfig } from '../../platform/config';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

async function composeCli(): Promise<string[]> {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const ok = await run(candidate[0]!, [...candidate.slice(1), 'version']).then(
      () => true,
      () => false,
    );
    if (ok) return candidate;
  }
  throw new Error('validating docker-compose.yml needs Docker Compose: install Debian\'s package (apt-get install docker-compose) or the Docker Compose plugin');
}

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  ports?: Array<string | { published: string | number; target: number }>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  build?: unknown;
  image?: string;
}

/** Container ports a service publishes (short `"[ip:]host:container[/protocol]"` or long syntax). */
function targetPorts(service: ComposeService): number[] {
  return (service.ports ?? []).map((p) => (typeof p === 'string' ? Number(p.replace(/\/\w+$/, '').split(':').at(-1)) : Number(p.target)));
}

/** Whether every port the service publishes is bound to the loopback address only. */
function loopbackOnly(service: ComposeService): boolean {
  return (service.ports ?? []).every((p) => typeof p === 'string' && p.startsWith('127.0.0.1:'));
}

/** A `host:port` a container dials, checked against the compose service of that name. */
function endpoint(address: string): { host: string; port: number } {
  const { hostname, port } = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: hostname, port: Number(port) };
}

/** A Rampart service reaches the PostgreSQL and Temporal its config names, and starts after them. */
async function expectWiredToWhatItDials(services: Record<string, ComposeService>, name: string, service: ComposeService, config: CommonConfig): Promise<void> {
  const database = endpoint(config.databaseUrl);
  const temporal = endpoint(config.temporal.address);
  const postgres = services[database.host];
  const temporalServer = services[temporal.host];
  expect(postgres, `${name}'s DATABASE_URL names a compose service`).toBeDefined();
  expect(temporalServer, `${name}'s TEMPORAL_ADDRESS names a compose service`).toBeDefined();
  // Credentials are those the PostgreSQL container is created with.
  const url = new URL(config.databaseUrl);
  expect([url.username, url.password]).toEqual([postgres!.environment?.POSTGRES_USER, postgres!.environment?.POSTGRES_PASSWORD]);
  expect(targetPorts(temporalServer!)).toContain(temporal.port);
  // It starts after what it dials; after PostgreSQL is healthy, which needs a health check.
  expect(service.depends_on?.[database.host]?.condition, `${name} waits for ${database.host}`).toBe('service_healthy');
  expect(postgres!.healthcheck?.test.join(' ')).toContain(`-U ${url.username}`);
  expect(service.depends_on, `${name} waits for ${temporal.host}`).toHaveProperty(temporal.host);
  // The entry it runs is compiled from a source file of this repository.
  const compiled = service.command!.at(-1)!.replace(/^dist\//, '').replace(/\.js$/, '.ts');
  await expect(access(path.join(ROOT, compiled))).resolves.toBeUndefined();
}

describe('deployment files', () => {
  it('docker-compose.yml is valid, sets only variables Rampart reads, and wires each service to what it dials', async () => {
    const [cli, ...args] = await composeCli();
    const adminKey = 'compose-test-admin-key';
    const { stdout } = await run(cli!, [...args, '-f', path.join(ROOT, 'docker-compose.yml'), 'config'], {
      cwd: ROOT,
      env: { ...process.env, RAMPART_ADMIN_KEY: adminKey },
    });
    const { services } = parse(stdout) as { services: Record<string, ComposeService> };
    // Rampart's own services are the ones built from this repository, found by the entry they run.
    const ours = Object.entries(services).filter(([, s]) => s.build !== undefined);
    const entry = (name: string) => ours.find(([, s]) => s.command?.at(-1) === `dist/${name}/main.js`);
    const [apiName, api] = entry('api') ?? [];
    const [workerName, worker] = entry('worker') ?? [];
    expect(api, 'a built service runs dist/api/main.js').toBeDefined();
    expect(worker, 'a built service runs dist/worker/main.js').toBeDefined();

    // Every variable is one the process reads, with a value it accepts.
    expect(Object.keys(api!.environment ?? {}).filter((name) => !API_ENV_NAMES.includes(name)), `${apiName} sets unknown variables`).toEqual([]);
    expect(Object.keys(worker!.environment ?? {}).filter((name) => !WORKER_ENV_NAMES.includes(name)), `${workerName} sets unknown variables`).toEqual([]);
    const apiConfig = loadApiConfig(api!.environment ?? {});
    const workerConfig = loadWorkerConfig(worker!.environment ?? {});
    // The admin key comes from the caller's environment, not from the file.
    expect(apiConfig.adminKey).toBe(adminKey);

    // Each process publishes the port it listens on, and the image declares it.
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    const exposed = (dockerfile.match(/^EXPOSE (.+)$/m)?.[1] ?? '').split(/\s+/).map(Number);
    expect(targetPorts(api!)).toContain(apiConfig.port);
    expect(targetPorts(worker!)).toContain(workerConfig.metricsPort);
    expect(exposed).toEqual(expect.arrayContaining([apiConfig.port, workerConfig.metricsPort]));

    await expectWiredToWhatItDials(services, apiName!, api!, apiConfig);
    await expectWiredToWhatItDials(services, workerName!, worker!, workerConfig);

    // Temporal keeps its state in the same PostgreSQL, and its UI talks to the same frontend.
    const temporalHost = endpoint(apiConfig.temporal.address).host;
    const temporalEnv = services[temporalHost]!.environment ?? {};
    const databaseHost = endpoint(apiConfig.databaseUrl).host;
    expect(temporalEnv.POSTGRES_SEEDS).toBe(databaseHost);
    expect(Number(temporalEnv.DB_PORT)).toBe(endpoint(apiConfig.databaseUrl).port);
    expect(services[temporalHost]!.depends_on?.[databaseHost]?.condition).toBe('service_healthy');
    const ui = Object.entries(services).find(([name, s]) => name !== temporalHost && s.environment?.TEMPORAL_ADDRESS !== undefined && s.build === undefined);
    expect(ui?.[1].environment?.TEMPORAL_ADDRESS).toBe(apiConfig.temporal.address);
    // Reaching Temporal is admin access: neither its frontend nor its UI is published beyond this machine.
    expect(loopbackOnly(services[temporalHost]!), `${temporalHost} publishes on 127.0.0.1 only`).toBe(true);
    expect(loopbackOnly(ui![1]), `${ui![0]} publishes on 127.0.0.1 only`).toBe(true);
  });

  it('npm run build produces what the Dockerfile runs: both entry points, the workflow bundle and the migrations', async () => {
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js/);
    await run('npm', ['run', 'build'], { cwd: ROOT, timeout: 300_000 });
    for (const file of ['dist/api/main.js', 'dist/worker/main.js', 'dist/workflow-bundle.js', 'dist/db/migrations/0001_foundation.sql']) {
      await expect(access(path.join(ROOT, file))).resolves.toBeUndefined();
    }
    const { stderr } = await run('node', ['dist/api/main.js'], { cwd: ROOT, env: { ...process.env, PORT: 'not-a-port' } }).catch((err: { stderr: string }) => err);
    expect(stderr).toMatch(/invalid configuration:[\s\S]*PORT/);
  });
});
