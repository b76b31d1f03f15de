import autocannon from 'autocannon';

/*
 * Runs one closed-loop autocannon load (as fast as the server answers) in its own process, so load generation does not share an event loop with
 * the server under test. Reads a JSON config from argv[2], prints the result as one JSON line.
 * Bodies rotate over many device ids: real fleets are many devices, and Rampart rate-limits each one.
 */
interface LoadConfig {
  url: string;
  durationSeconds: number;
  connections: number;
  /** A JSON body template; `__DEVICE__` is replaced by a rotating device id. Absent: a GET, the id in the URL. */
  body?: string;
  devices: number;
  /** Added to every device number: loads that must not meet each other's devices take apart ranges. */
  firstDevice?: number;
  /** Stop after this many requests (within `durationSeconds`). */
  amount?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
const target = new URL(config.url);
const [head, tail] = (config.body ?? `${target.pathname}${target.search}`).split('__DEVICE__');
const firstDevice = config.firstDevice ?? 0;
let next = 0;
const deviceId = () => {
  next = (next + 1) % config.devices;
  return `${(firstDevice + next).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
};

const instance = autocannon(
  {
    url: config.url,
    method: config.body === undefined ? 'GET' : 'POST',
    headers: config.body === undefined ? {} : { 'content-type': 'application/json' },
    connections: config.connections,
    duration: config.durationSeconds,
    ...(config.amount === undefined ? {} : { amount: config.amount }),
    requests: [
      {
        setupRequest: (req) => {
          const templated = tail === undefined ? head! : `${head}${deviceId()}${tail}`;
          return config.body === undefined ? { ...req, path: templated } : { ...req, body: templated };
        },
      },
    ],
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    }
    const statusCounts = result.statusCodeStats as unknown as Record<string, { count: number }>;
    process.stdout.write(
      `${JSON.stringify({
        requestsPerSecond: result.requests.average,
        totalRequests: result.requests.total,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        statusCodes: Object.fromEntries(Object.entries(statusCounts ?? {}).map(([code, s]) => [code, s.count])),
      })}\n`,
    );
  },
);
instance.on('error', (err) => process.stderr.write(`${String(err)}\n`));
