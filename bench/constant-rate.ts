import { Agent, request } from 'node:http';

/*
 * An open-loop load at a constant rate, for latency at a given throughput. autocannon's overallRate
 * releases each second's budget in bursts, which measures its own queueing (an Express route answering
 * a fixed JSON shows a p99 of 200 ms at 2,000 req/s that way). Here requests leave evenly spaced, and
 * latency counts from when a request was due, so a stalled server cannot hide its backlog.
 * Reads a JSON config from argv[2]; prints one JSON line.
 */
interface Config {
  url: string;
  rate: number;
  durationSeconds: number;
  /** Seconds at the rate before counting starts: connections open, JIT warms up. */
  warmupSeconds?: number;
  /** JSON body template; `__DEVICE__` becomes a rotating device id. Absent: a GET, the id in the URL. */
  body?: string;
  devices: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const target = new URL(config.url);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const [head, tail] = (config.body ?? `${target.pathname}${target.search}`).split('__DEVICE__');
const latencies: number[] = [];
let errors = 0;
let non2xx = 0;
let device = 0;
let countFrom = 0;

function send(dueAt: number): Promise<void> {
  device = (device + 1) % config.devices;
  const templated = tail === undefined ? head! : `${head}${device.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000${tail}`;
  const body = config.body === undefined ? '' : templated;
  const get = config.body === undefined;
  return new Promise((resolve) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: get ? templated : target.pathname,
        method: get ? 'GET' : 'POST',
        agent,
        headers: get ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (dueAt >= countFrom) {
            if (res.statusCode === undefined || res.statusCode >= 300) non2xx += 1;
            latencies.push(performance.now() - dueAt);
          }
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors += 1;
      resolve();
    });
    req.end(body);
  });
}

async function main(): Promise<void> {
  const interval = 1000 / config.rate;
  const start = performance.now();
  countFrom = start + (config.warmupSeconds ?? 2) * 1000;
  const end = countFrom + config.durationSeconds * 1000;
  let inFlight: Array<Promise<void>> = [];
  let next = start;
  while (next < end) {
    const now = performance.now();
    while (next <= now && next < end) {
      inFlight.push(send(next));
      next += interval;
    }
    if (inFlight.length > 10_000) inFlight = [Promise.all(inFlight).then(() => undefined)];
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  const at = (p: number) => +(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(2);
  process.stdout.write(
    `${JSON.stringify({ requests: latencies.length, achievedRate: Math.round(latencies.length / config.durationSeconds), p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: at(1), errors, non2xx })}\n`,
  );
  agent.destroy();
}

void main();
