import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import type { DeviceProfileStore } from '../db/stores/device-profile-store';
import { createApiMetrics } from '../api/api-metrics';
import { createDeviceProfiles } from '../api/device/device-profiles';
import { createRateLimiter } from '../api/device/rate-limiter';
import { API_DEFAULTS } from '../platform/config';
import { createLogger } from '../platform/logger';
import { createRegistry } from '../platform/metrics';

/*
 * `npm run bench:device-memory`: what an API instance keeps per device it has seen, in isolation —
 * the rate limiter's bucket and the device profiles' state — after N devices each made one update
 * check's calls (rate limit, engagement, sighting, half of them served in a release in flight), the
 * profile store answering at once (no PostgreSQL). Heap used + external after a full GC, per 100,000
 * devices, the CPU each device took (GC included) and the GC pauses on the way. BENCH_MEMORY_DEVICES sets N (1,000,000).
 */

const DEVICES = Number(process.env.BENCH_MEMORY_DEVICES ?? 1_000_000);
const APP = 'com.example.bench';

const deviceIdOf = (i: number) => `${(0x40000000 + i).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

const store = {
  upsertSightings: () => Promise.resolve(),
  addSessions: () => Promise.resolve(),
  recordServed: () => Promise.resolve(),
  engagement: () => Promise.resolve(new Map()),
} as unknown as DeviceProfileStore;

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc');
  collect();
  collect();
}

const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

async function main(): Promise<void> {
  const metrics = createApiMetrics(createRegistry('device_memory', false));
  // Every device fits: the figure is the cost of a device kept, not of a bound.
  const profiles = createDeviceProfiles({ ...API_DEFAULTS.deviceProfiles, maxCachedDevices: DEVICES, store, logger: createLogger('device-memory', 'silent'), metrics });
  const limiter = createRateLimiter({ ...API_DEFAULTS.deviceRateLimit, maxDevices: DEVICES });
  const flush = () => new Promise((resolve) => setTimeout(resolve, API_DEFAULTS.deviceProfiles.flushIntervalMs + 50));
  profiles.start();
  gc();
  const before = used();
  // Pauses of the collections the devices caused: scavenges grow with what survives them, mark-compacts with the old generation.
  const pauses = { scavengeMs: 0, markCompactMs: 0, maxPauseMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.scavengeMs += entry.duration;
      else if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) pauses.markCompactMs += entry.duration;
      pauses.maxPauseMs = Math.max(pauses.maxPauseMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const cpuBefore = process.cpuUsage();
  const now = Date.now();
  for (let i = 0; i < DEVICES; i++) {
    const deviceId = deviceIdOf(i);
    limiter.take(APP, deviceId, now);
    profiles.engagement(APP, deviceId, now);
    profiles.sighted({ appId: APP, deviceId, platform: 'android', nativeVersion: '3.1.0', bundleVersion: i % 2 ? '1.1.0' : '1.0.0', channel: 'production', attributes: { plan: 'pro', tester: false } }, now);
    if (i % 2 === 0) profiles.served(APP, 'rel_0123456789abcdef', deviceId, now);
    // The buffers drain once a second in service; here every 20,000 devices.
    if (i % 20_000 === 19_999) await flush();
  }
  await flush();
  await flush();
  const cpu = process.cpuUsage(cpuBefore);
  observer.disconnect();
  gc();
  const after = used();
  // Both still in use here, or the collector would have taken them before the reading.
  if (!limiter.knows(APP, deviceIdOf(0)) || profiles.engagement(APP, deviceIdOf(0), now) === null) throw new Error('a device was forgotten');
  await profiles.stop();
  const perDevice = (after - before) / DEVICES;
  process.stdout.write(
    `${JSON.stringify({ devices: DEVICES, bytesPerDevice: Math.round(perDevice), mbPer100kDevices: +((perDevice * 100_000) / 1024 / 1024).toFixed(1), heapUsedMb: +(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1), externalMb: +(process.memoryUsage().external / 1024 / 1024).toFixed(1), cpuMicrosecondsPerDevice: +((cpu.user + cpu.system) / DEVICES).toFixed(2), scavengeMs: Math.round(pauses.scavengeMs), markCompactMs: Math.round(pauses.markCompactMs), maxGcPauseMs: +pauses.maxPauseMs.toFixed(1) })}\n`,
  );
}

void main();
