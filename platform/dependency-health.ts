/** Probes of the dependencies a process uses, each answering whether it can be used right now. */
export type DependencyProbes = Record<string, () => Promise<boolean>>;

export interface HealthReport {
  /** `degraded`: the process is alive and serves what it can, but some dependency is down. */
  status: 'ok' | 'degraded';
  dependencies: Record<string, 'up' | 'down'>;
}

/** Runs every probe at once; a probe that throws counts as down. */
export async function healthReport(probes: DependencyProbes): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => [name, await probe().catch(() => false)] as const),
  );
  return {
    status: entries.every(([, up]) => up) ? 'ok' : 'degraded',
    dependencies: Object.fromEntries(entries.map(([name, up]) => [name, up ? 'up' : 'down'])),
  };
}
