import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type ApiClient } from './api-client';
import type { Me, ReleaseStatus } from './types';

export interface Session {
  api: ApiClient;
  me: Me;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('no session');
  return session;
}

export const can = (me: Me, permission: string) => me.permissions.includes(permission);

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  reload: () => void;
}

/** Loads and reloads; a failed reload keeps the last data on screen under the error. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const latest = useRef(0);
  const reload = useCallback(() => {
    const ticket = ++latest.current;
    load().then(
      (value) => {
        if (ticket !== latest.current) return;
        setData(value);
        setError(null);
      },
      (err: unknown) => {
        if (ticket !== latest.current) return;
        setError(err instanceof ApiError ? err : new ApiError(0, 'client', err instanceof Error ? err.message : String(err)));
      },
    );
  }, deps);
  // What was shown stays until newer data replaces it: a live page must not flicker on every change.
  useEffect(reload, [reload]);
  return { data, error, reload };
}

/** Retries on its own while the stack is down, so the page comes back when the API does. */
export function useRetryWhileDown(loaded: Loaded<unknown>, everyMs = 5000): void {
  const down = loaded.error?.stackDown ?? false;
  useEffect(() => {
    if (!down) return;
    const timer = setInterval(loaded.reload, everyMs);
    return () => clearInterval(timer);
  }, [down, loaded.reload, everyMs]);
}

export function ErrorNotice({ error }: { error: ApiError | null }) {
  if (!error) return null;
  const title = error.stackDown ? 'Rampart is unreachable' : error.keyRefused ? 'Key refused' : 'The API refused';
  return (
    <div class={`notice ${error.stackDown ? 'notice-down' : 'notice-error'}`} role="alert">
      <strong>{title}:</strong> {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

const STATUS_LABELS: Record<ReleaseStatus, string> = {
  pending: 'pending',
  running: 'running',
  paused: 'paused',
  completed: 'completed',
  rolled_back: 'rolled back',
  aborted: 'aborted',
};

export const statusLabel = (status: ReleaseStatus) => STATUS_LABELS[status] ?? status;

export function StatusBadge({ status }: { status: ReleaseStatus }) {
  return <span class={`badge badge-${status}`}>{statusLabel(status)}</span>;
}

export const percent = (bps: number) => `${(bps / 100).toLocaleString('en', { maximumFractionDigits: 2 })} %`;
export const share = (fraction: number | null | undefined) => (fraction === null || fraction === undefined ? '—' : `${(fraction * 100).toFixed(1)} %`);
export const when = (at: number | string) => new Date(at).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  return `${(m / 60).toFixed(1)} h`;
}

/** Exposure per segment as labelled bars (basis points of the segment's devices). */
export function ExposureBars({ exposure, label }: { exposure: Record<string, number>; label: string }) {
  const entries = Object.entries(exposure);
  if (entries.length === 0) return <p class="muted">No exposure yet.</p>;
  return (
    <ul class="bars" aria-label={label}>
      {entries.map(([segment, bps]) => (
        <li key={segment}>
          <span class="bar-label">{segment}</span>
          <span class="bar" role="meter" aria-valuemin={0} aria-valuemax={10_000} aria-valuenow={bps} aria-label={`${segment} exposure`}>
            <span class="bar-fill" style={{ width: `${bps / 100}%` }} />
          </span>
          <span class="bar-value">{percent(bps)}</span>
        </li>
      ))}
    </ul>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = `h-${id ?? title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section aria-labelledby={headingId} class="card">
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}
