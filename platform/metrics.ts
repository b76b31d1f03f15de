import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process (or per test app), so building the app twice never double-registers. */
export function createRegistry(prefix: string, withDefaults = true): Registry {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: `${prefix}_` });
  return registry;
}

export function createCounter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function createGauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export function createHistogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
): Histogram<L> {
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

/**
 * A counter for hot paths: an increment is one Map update, folded into prom-client (label
 * validation, hashing) only when the registry is scraped. Values are given in labelNames order.
 */
export function createBatchedCounter<const L extends readonly string[]>(registry: Registry, name: string, help: string, labelNames: L) {
  const pending = new Map<string, number>();
  const counter: Counter<L[number]> = new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [key, count] of pending) {
        const values = key.split('\u0000');
        counter.inc(Object.fromEntries(labelNames.map((label, i) => [label, values[i]])) as Partial<Record<L[number], string>>, count);
      }
      pending.clear();
    },
  });
  return {
    inc(...values: { [K in keyof L]: string }): void {
      const key = values.join('\u0000');
      pending.set(key, (pending.get(key) ?? 0) + 1);
    },
  };
}

export interface GaugeSample<L extends string> {
  labels: Record<L, string>;
  value: number;
}

/**
 * A gauge whose series are computed when the registry is scraped: each scrape replaces every series
 * with what `samples` returns, so a series left out (a release that ended) is gone.
 */
export function createCollectedGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  samples: () => Promise<ReadonlyArray<GaugeSample<L>>>,
): Gauge<L> {
  const gauge: Gauge<L> = new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const current = await samples();
      gauge.reset();
      for (const sample of current) gauge.set(sample.labels as Partial<Record<L, string>>, sample.value);
    },
  });
  return gauge;
}
