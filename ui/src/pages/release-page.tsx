import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api-client';
import { Chart, type ChartMark, type ChartSeries } from '../chart';
import { can, duration, ErrorNotice, ExposureBars, Loading, percent, Section, share, StatusBadge, statusLabel, useLoad, useRetryWhileDown, useSession, when } from '../components';
import { followRelease, type LiveMode } from '../live';
import { href } from '../router';
import { FINISHED, type ExperimentArm, type ExperimentResults, type Insights, type Release, type Segment } from '../types';

const COMMANDS = [
  { path: 'pause', label: 'Pause', when: ['running'] },
  { path: 'resume', label: 'Resume', when: ['paused'] },
  { path: 'promote', label: 'Promote', when: ['running', 'paused'] },
  { path: 'rollback', label: 'Roll back', when: ['running', 'paused', 'pending'] },
  { path: 'abort', label: 'Abort', when: ['running', 'paused', 'pending'] },
] as const;
type Command = (typeof COMMANDS)[number];

const HOUR_MS = 3_600_000;
/** Five-minute buckets over the release's life, up to half a day (the API caps the points). */
const insightRange = (release: Release) => {
  const to = Date.now();
  const from = Math.max(Date.parse(release.createdAt) - 5 * 60_000, to - 12 * HOUR_MS);
  return `step=5m&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
};

function CommandDialog({ release, command, onClose, onDone }: { release: Release; command: Command; onClose: () => void; onDone: (r: Release) => void }) {
  const { api } = useSession();
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      onDone(await api.post<Release>(`/v1/releases/${encodeURIComponent(release.id)}/${command.path}`, { reason }));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} aria-labelledby="command-title" onClose={onClose} class="dialog">
      <form onSubmit={(e) => void submit(e)}>
        <h2 id="command-title">
          {command.label} {release.version} on {release.channel}?
        </h2>
        <ErrorNotice error={error} />
        <label for="command-reason">Reason (goes to the audit log)</label>
        <textarea id="command-reason" required rows={3} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        <div class="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class={command.path === 'rollback' || command.path === 'abort' ? 'danger' : 'primary'} disabled={busy || !reason.trim()}>
            {command.label}
          </button>
        </div>
      </form>
    </dialog>
  );
}

function Commands({ release, onChanged }: { release: Release; onChanged: (r: Release) => void }) {
  const { me } = useSession();
  const [open, setOpen] = useState<Command | null>(null);
  if (!can(me, 'command_releases') || FINISHED.includes(release.status)) return null;
  return (
    <div class="commands" role="group" aria-label="On-call commands">
      {COMMANDS.filter((c) => (c.when as readonly string[]).includes(release.status)).map((c) => (
        <button key={c.path} type="button" class={c.path === 'rollback' || c.path === 'abort' ? 'danger' : ''} onClick={() => setOpen(c)}>
          {c.label}
        </button>
      ))}
      {open && (
        <CommandDialog
          release={release}
          command={open}
          onClose={() => setOpen(null)}
          onDone={(r) => {
            setOpen(null);
            onChanged(r);
          }}
        />
      )}
    </div>
  );
}

function windowText(segment: Segment | undefined): string {
  if (!segment || segment.maintenanceWindows.length === 0) return '';
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return segment.maintenanceWindows.map((w) => `${w.days.map((d) => days[d]).join(',')} ${w.start}–${w.end}${w.timeZone ? ` ${w.timeZone}` : ''}`).join('; ');
}

function PlanTimeline({ release, segments }: { release: Release; segments: Segment[] }) {
  const finished = FINISHED.includes(release.status);
  return (
    <ol class="timeline">
      {release.plan.stages.map((stage, i) => {
        const current = i === release.stageIndex && !finished;
        const done = i < release.stageIndex || release.status === 'completed';
        return (
          <li key={i} class={current ? 'stage current' : done ? 'stage done' : 'stage'} aria-current={current ? 'step' : undefined}>
            <strong>
              Stage {i + 1}
              {stage.name ? `: ${stage.name}` : ''}
            </strong>{' '}
            — {percent(stage.exposureBps)} of {stage.segments.join(', ')}; soak {duration(stage.minSoakMs)}
            {stage.maxSoakMs ? ` to ${duration(stage.maxSoakMs)}` : ''}
            {current && (
              <div class="stage-now" data-testid="current-stage">
                <span>
                  now: {release.phase === 'entering' ? 'entering' : 'baking'} · soaked {duration(release.soakedMs)} of {duration(stage.minSoakMs)}
                  {stage.checkIntervalMs ? ` · gates checked every ${duration(stage.checkIntervalMs)}` : ''}
                </span>
                <progress max={Math.max(1, stage.minSoakMs)} value={Math.min(release.soakedMs ?? 0, stage.minSoakMs)} aria-label={`Soak progress of stage ${i + 1}`} />
                {release.waitingSegments.length > 0 && (
                  <p>
                    Waiting for a maintenance window:{' '}
                    {release.waitingSegments.map((s) => `${s}${windowText(segments.find((x) => x.key === s)) ? ` (opens ${windowText(segments.find((x) => x.key === s))})` : ''}`).join(', ')}
                  </p>
                )}
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}

const MARK_COLORS: Record<string, string> = { rolled_back: '#ff6b6b', aborted: '#ff6b6b', paused: '#ffd166', stage_started: '#6ab0ff', completed: '#7bd88f' };

function rateCharts(insights: Insights, release: Release) {
  const xs = [...new Set(insights.series.flatMap((s) => s.points.map((p) => Date.parse(p.start) / 1000)))].sort((a, b) => a - b);
  const marks: ChartMark[] = release.history
    .filter((t) => t.event in MARK_COLORS)
    .map((t) => ({ at: t.at / 1000, label: t.event === 'stage_started' ? `stage ${t.stageIndex + 1}` : t.event.replace('_', ' '), color: MARK_COLORS[t.event]! }));
  if (release.gates) marks.push({ at: release.gates.at / 1000, label: `gate: ${release.gates.verdict}`, color: '#c39bff' });
  const line = (segment: string, cohort: string, pick: 'crashDeviceRate' | 'jsErrorDeviceRate', color: string, dash?: number[]): ChartSeries | null => {
    const s = insights.series.find((x) => x.segment === segment && x.cohort === cohort);
    if (!s) return null;
    const byX = new Map(s.points.map((p) => [Date.parse(p.start) / 1000, p[pick]]));
    return { label: `${segment} ${cohort}`, color, dash, values: xs.map((x) => byX.get(x) ?? null) };
  };
  const segments = [...new Set(insights.series.map((s) => s.segment))];
  const of = (pick: 'crashDeviceRate' | 'jsErrorDeviceRate') =>
    segments.flatMap((seg) => [line(seg, 'canary', pick, '#ff9f68'), line(seg, 'control', pick, '#6ab0ff', [6, 4])]).filter((s): s is ChartSeries => s !== null);
  const adoptionXs = [...new Set(insights.adoption.flatMap((a) => a.curve.map((p) => Date.parse(p.start) / 1000)))].sort((a, b) => a - b);
  const palette = ['#7bd88f', '#ffd166', '#6ab0ff', '#ff9f68', '#c39bff'];
  const adoption = insights.adoption.map((a, i): ChartSeries => {
    const byX = new Map(a.curve.map((p) => [Date.parse(p.start) / 1000, p.adoption]));
    return { label: a.segment, color: palette[i % palette.length]!, values: adoptionXs.map((x) => byX.get(x) ?? null) };
  });
  const xRange: [number, number] = [Math.min(Date.parse(release.createdAt) / 1000, ...xs, ...adoptionXs), Date.now() / 1000 + 60];
  return { xs, marks, crash: of('crashDeviceRate'), jsError: of('jsErrorDeviceRate'), adoptionXs, adoption, xRange };
}

const asPercent = (v: number) => `${(v * 100).toFixed(2)} %`;

function InsightSections({ insights, release }: { insights: Insights; release: Release }) {
  const charts = useMemo(() => rateCharts(insights, release), [insights, release.history, release.gates]);
  const ratio = release.gates?.evidence.ratio ?? [];
  return (
    <>
      <Section title="Canary vs control">
        <Chart title="Crash rate (devices that crashed)" xs={charts.xs} series={charts.crash} marks={charts.marks} format={asPercent} xRange={charts.xRange} />
        <Chart title="JS-error rate (devices with a JS error)" xs={charts.xs} series={charts.jsError} marks={charts.marks} format={asPercent} xRange={charts.xRange} />
        <h3>Last gate decision</h3>
        {!release.gates ? (
          <p class="muted">No gate decision yet.</p>
        ) : (
          <>
            <p>
              <strong>{release.gates.verdict}</strong> at {when(release.gates.at)} (stage {release.gates.stageIndex + 1})
            </p>
            <ul>
              {release.gates.evidence.findings.map((f, i) => (
                <li key={i}>
                  {f.gate}
                  {f.metric ? ` ${f.metric}` : ''}
                  {f.segment ? ` (${f.segment})` : ''}: {f.verdict}
                  {f.message ? ` — ${f.message}` : ''}
                </li>
              ))}
            </ul>
            {ratio.length > 0 && (
              <table>
                <caption>Rate ratio canary ÷ control with 95 % intervals</caption>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col">Segment</th>
                    <th scope="col">Canary events / devices</th>
                    <th scope="col">Control events / devices</th>
                    <th scope="col">Ratio (95 % interval)</th>
                  </tr>
                </thead>
                <tbody>
                  {ratio.map((r) => (
                    <tr key={`${r.metric}-${r.segment}`}>
                      <td>{r.metric}</td>
                      <td>{r.segment}</td>
                      <td>
                        {r.canaryEvents} / {r.canaryDevices}
                      </td>
                      <td>
                        {r.controlEvents} / {r.controlDevices}
                      </td>
                      <td>{r.rateRatio === null ? '—' : `${r.rateRatio.toFixed(2)} (${r.rateRatioInterval?.map((v) => v.toFixed(2)).join('–') ?? '—'})`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Section>
      <Section title="Adoption per segment">
        <Chart title="Share of active devices on this release" xs={charts.adoptionXs} series={charts.adoption} marks={charts.marks} format={asPercent} xRange={charts.xRange} />
        <ul>
          {insights.adoption.map((a) => (
            <li key={a.segment}>
              {a.segment}: 50 % after {duration(a.timeToAdoption['50']?.afterMs)}, 90 % after {duration(a.timeToAdoption['90']?.afterMs)}
            </li>
          ))}
        </ul>
      </Section>
      <Section title="Update success">
        <ul>
          {insights.series
            .filter((s) => s.cohort === 'canary')
            .map((s) => (
              <li key={s.segment}>
                {s.segment}: {share(s.totals.updateSuccess?.rate)} ({s.totals.installs.ok} ok, {s.totals.installs.failed} failed)
              </li>
            ))}
        </ul>
      </Section>
    </>
  );
}

const signed = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %`);

function armValue(arm: ExperimentArm, metric: string): string {
  if (arm.value === null) return '—';
  if (metric === 'session_duration') return duration(arm.value);
  return metric === 'feature_use' ? `${arm.value.toFixed(3)} uses/session` : share(arm.value);
}

function armComparison(arm: ExperimentArm): string {
  if (arm.control) return 'control';
  const r = arm.relative;
  if (!r || r.estimate === null) return '—';
  return `${signed(r.estimate)} [${signed(r.lower)}, ${signed(r.upper)}]`;
}

/** The gate guardrail's verdict, then each session-length or feature-use guardrail's change against the control. */
function armGuardrails(arm: ExperimentArm): string {
  if (arm.stopped) return `stopped: ${arm.stoppedReason ?? 'by command'}`;
  const metrics = arm.metricGuardrails.map((g) => {
    const name = g.metric.replace(/_/g, ' ') + (g.feature === null ? '' : ` of ${g.feature}`);
    return `${name} ${signed(g.relative.estimate)} [${signed(g.relative.lower)}, ${signed(g.relative.upper)}]${g.harmful ? ' — harmful' : ''}`;
  });
  return [arm.guardrail.verdict ?? '—', ...metrics].join(' · ');
}

function ExperimentSection({ results }: { results: ExperimentResults }) {
  const metric = results.primary.metric.replace(/_/g, ' ') + (results.primary.feature === undefined ? '' : ` of ${results.primary.feature}`);
  const srm = results.sampleRatio;
  return (
    <Section title="Experiment">
      <p>
        Primary metric <strong>{metric}</strong> ({results.primary.direction} is better), control arm {results.control}, α {results.alpha}
        {results.live ? '' : ' · Temporal could not be asked: no statistics'}
      </p>
      <table data-testid="experiment-arms">
        <caption>Arms against the control, with always-valid intervals (safe to look at any time)</caption>
        <thead>
          <tr>
            <th scope="col">Arm</th>
            <th scope="col">Bundle</th>
            <th scope="col">Install</th>
            <th scope="col">Devices</th>
            <th scope="col">{metric}</th>
            <th scope="col">Change vs control</th>
            <th scope="col">Verdict</th>
            <th scope="col">Guardrail</th>
          </tr>
        </thead>
        <tbody>
          {results.arms.map((arm) => (
            <tr key={arm.key}>
              <td>{arm.key}</td>
              <td>{arm.version ?? 'baseline'}</td>
              <td>{arm.installMode.replace(/_/g, ' ')}</td>
              <td>{arm.sample}</td>
              <td>{armValue(arm, results.primary.metric)}</td>
              <td>{armComparison(arm)}</td>
              <td>{arm.control ? '—' : (arm.verdict ?? '—')}</td>
              <td>{armGuardrails(arm)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {srm && (
        <p>
          Sample ratio: {srm.observed.join(' / ')} devices, p {srm.pValue.toFixed(3)}
          {srm.mismatch ? ' — mismatch: the split is not what was asked, so the experiment paused' : ''}
        </p>
      )}
      <p data-testid="experiment-outcome">
        {results.promotedArm
          ? `Arm ${results.promotedArm} was promoted: it is the channel's release now.`
          : results.conclusion
            ? `Concluded: ${results.conclusion.reason}`
            : results.winner
              ? `Winner so far: ${results.winner}`
              : 'No winner yet.'}
      </p>
    </Section>
  );
}

/** Reloaded with each new revision of the release, as its page is. */
function ExperimentPanel({ release }: { release: Release }) {
  const { api } = useSession();
  const results = useLoad(() => api.get<ExperimentResults>(`/v1/releases/${encodeURIComponent(release.id)}/experiment`), [release.id, release.revision, release.status]);
  return (
    <>
      <ErrorNotice error={results.error} />
      {results.data ? <ExperimentSection results={results.data} /> : !results.error && <Loading what="the experiment's results" />}
    </>
  );
}

function History({ release }: { release: Release }) {
  return (
    <table data-testid="history">
      <caption>Every transition, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Event</th>
          <th scope="col">Status</th>
          <th scope="col">Stage</th>
          <th scope="col">Actor</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {[...release.history].reverse().map((t) => (
          <tr key={t.seq}>
            <td>{when(t.at)}</td>
            <td>{t.event.replace(/_/g, ' ')}</td>
            <td>
              {statusLabel(t.from)} → {statusLabel(t.to)}
            </td>
            <td>{t.stageIndex + 1}</td>
            <td>
              {t.actor}
              {t.claimedBy ? ' (claimed via a Temporal signal)' : ''}
            </td>
            <td>{t.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const LIVE_TEXT: Record<LiveMode, string> = { connecting: 'connecting…', streaming: 'live', polling: 'polling (live stream unavailable)' };

function ReleaseHeader({ release, live }: { release: Release; live: string }) {
  return (
    <>
      <p class="crumbs">
        <a href={href.apps()}>Apps</a> › {release.appId} › {release.channel}
      </p>
      <h1>
        {release.version} on {release.channel} <StatusBadge status={release.status} />
      </h1>
      <p class="meta" aria-live="polite">
        <span data-testid="status">{statusLabel(release.status)}</span> · stage <span data-testid="stage">{release.stageIndex + 1}</span> of {release.plan.stages.length}
        {release.stageName ? ` (${release.stageName})` : ''} · started by {release.createdBy} {when(release.createdAt)} · baseline {release.baselineVersion ?? 'built-in bundle'} ·{' '}
        <span data-testid="live">{live}</span>
        {!release.live && ' · Temporal could not be asked: showing what devices are served'}
      </p>
      {release.reason && <p>Last reason: {release.reason}</p>}
    </>
  );
}

export function ReleasePage({ id }: { id: string }) {
  const { api } = useSession();
  const path = `/v1/releases/${encodeURIComponent(id)}`;
  const loaded = useLoad(() => api.get<Release>(path), [path]);
  const [override, setOverride] = useState<Release | null>(null);
  const release = override && (!loaded.data || override.revision >= loaded.data.revision) ? override : loaded.data;
  const insights = useLoad(async () => (release ? api.get<Insights>(`${path}/insights?${insightRange(release)}`) : undefined), [path, release?.revision, release?.status]);
  const segments = useLoad(async () => (release ? (await api.get<{ segments: Segment[] }>(`/v1/apps/${encodeURIComponent(release.appId)}/segments`)).segments : []), [release?.appId]);
  const [mode, setMode] = useState<LiveMode>('connecting');
  useRetryWhileDown(loaded);
  const finished = release ? FINISHED.includes(release.status) : false;
  useEffect(() => (finished ? undefined : followRelease(api, id, loaded.reload, setMode)), [api, id, finished, loaded.reload]);

  if (!release) {
    return (
      <>
        <h1>Release {id}</h1>
        <ErrorNotice error={loaded.error} />
        {!loaded.error && <Loading what="the release" />}
      </>
    );
  }
  return (
    <>
      <ReleaseHeader release={release} live={finished ? 'finished' : LIVE_TEXT[mode]} />
      <ErrorNotice error={loaded.error} />
      <Commands
        release={release}
        onChanged={(r) => {
          setOverride(r);
          loaded.reload();
        }}
      />
      <Section title="Plan">
        <PlanTimeline release={release} segments={segments.data ?? []} />
      </Section>
      <Section title="Exposure per segment">
        <ExposureBars exposure={release.exposure} label="Exposure per segment" />
      </Section>
      {release.kind === 'experiment' && <ExperimentPanel release={release} />}
      <ErrorNotice error={insights.error} />
      {insights.data ? <InsightSections insights={insights.data} release={release} /> : !insights.error && <Loading what="insights" />}
      <Section title="Transition history">
        <History release={release} />
      </Section>
      <Section title="Webhook deliveries">
        <p class="muted">
          The API does not list webhook deliveries yet; the app's webhooks are on its <a href={href.settings(release.appId)}>settings page</a>.
        </p>
      </Section>
    </>
  );
}
