import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createActivityMetrics } from '../../../activities/activity-metrics';
import { createApiMetrics, registerReleaseGauges } from '../../../api/api-metrics';
import { DURATION_SAMPLE_EVERY } from '../../../api/http/request-metrics';
import { createRegistry } from '../../../platform/metrics';

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; definition?: string }> };
}

const dashboard = JSON.parse(readFileSync(path.resolve(__dirname, '../../../deploy/grafana/rampart.json'), 'utf8')) as Dashboard;
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const panels = allPanels(dashboard.panels);
const queryPanels = panels.filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Every metric name the API and the worker register (histograms by their base name). */
function registeredNames(): { names: Set<string>; histograms: Set<string> } {
  const api = createRegistry('rampart_api');
  createApiMetrics(api);
  registerReleaseGauges(api, { plan: () => Promise.resolve({ exposure: [], adoption: [], updateSuccess: [], crashRate: [], dropped: 0 }) });
  const worker = createRegistry('rampart_worker');
  createActivityMetrics(worker);
  const all = (registry: Registry) => registry.getMetricsAsArray().map((m) => ({ name: m.name, type: (m as unknown as { type: string }).type }));
  const list = [...all(api), ...all(worker)];
  return { names: new Set(list.map((m) => m.name)), histograms: new Set(list.filter((m) => m.type === 'histogram' || m.type === 'summary').map((m) => m.name)) };
}

/** The metric a series name in a query stands for: `x_bucket`, `x_sum` and `x_count` are histogram `x`. */
function known(name: string, registered: ReturnType<typeof registeredNames>): boolean {
  if (registered.names.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && registered.histograms.has(base);
}

describe('deploy/grafana/rampart.json', () => {
  it('is a dashboard: schema version, panels with unique ids and a place, a Prometheus data source variable', () => {
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.uid).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(30);
    expect(panels.length).toBeGreaterThan(0);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) expect(p.gridPos, p.title).toMatchObject({ h: expect.any(Number), w: expect.any(Number), x: expect.any(Number), y: expect.any(Number) });
    const datasource = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(datasource).toMatchObject({ name: 'datasource', query: 'prometheus' });
    for (const p of queryPanels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.expr.trim(), p.title).not.toBe('');
    }
  });

  it('charts the release gauges, the API, ingestion and the snapshot', () => {
    const used = exprs.map((e) => e.expr).join('\n');
    for (const name of [
      'rampart_release_exposure_ratio',
      'rampart_release_adoption_ratio',
      'rampart_release_update_success_ratio',
      'rampart_release_crash_rate',
      'rampart_http_request_duration_seconds_bucket',
      'rampart_http_request_duration_seconds_count',
      'rampart_update_checks_total',
      'rampart_device_events_ingested_total',
      'rampart_telemetry_flush_seconds_bucket',
      'rampart_snapshot_apply_lag_seconds_bucket',
    ]) {
      expect(used).toContain(name);
    }
  });

  it('uses only metric names the API or the worker registers, so a renamed metric fails here', () => {
    const registered = registeredNames();
    const queries = [...exprs, ...dashboard.templating.list.flatMap((v) => (v.definition ? [{ panel: `variable ${v.name}`, expr: v.definition }] : []))];
    const unknown = queries.flatMap(({ panel, expr }) => (expr.match(/\brampart_[a-z0-9_]+/g) ?? []).filter((name) => !known(name, registered)).map((name) => `${panel}: ${name}`));
    expect(unknown).toEqual([]);
  });

  it('scales the sampled request histogram back to a request rate', () => {
    const rates = exprs.filter((e) => e.expr.includes('rampart_http_request_duration_seconds_count'));
    expect(rates.length).toBeGreaterThan(0);
    for (const { expr } of rates) expect(expr.startsWith(`${DURATION_SAMPLE_EVERY} * `)).toBe(true);
  });
});
