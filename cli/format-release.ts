import { formatDuration } from './format-duration';
import { gateStaleness } from './gate-staleness';
import type { ReleaseAnswer } from './release-answer';
import { stageProgress, type StageProgress } from './stage-progress';

const pct = (bps: number) => `${(bps / 100).toFixed(2)} %`;
const iso = (ms: number) => new Date(ms).toISOString();

export function formatExposure(release: ReleaseAnswer): string {
  return (
    Object.entries(release.exposure)
      .map(([segment, bps]) => `${segment} ${pct(bps)}`)
      .join(', ') || 'none yet'
  );
}

export function formatStage(release: ReleaseAnswer): string {
  const number = release.stageIndex + 1;
  // Unnamed stages are called "stage N" by the plan, which would read "stage 1/2 stage 1".
  const name = release.stageName && release.stageName !== `stage ${number}` ? ` ${release.stageName}` : '';
  return `stage ${number}/${release.plan?.stages.length ?? '?'}${name}`;
}

/** "2 m 10 s of 4 m minimum (1 m 50 s to go), pauses for a human at 16 m". */
export function formatSoak(progress: StageProgress): string {
  const { soakedMs, minSoakMs, maxSoakMs } = progress;
  const minimum =
    soakedMs < minSoakMs
      ? `${formatDuration(soakedMs)} of ${formatDuration(minSoakMs)} minimum (${formatDuration(minSoakMs - soakedMs)} to go)`
      : `${formatDuration(soakedMs)}, past the ${formatDuration(minSoakMs)} minimum`;
  return `${minimum}, pauses for a human at ${formatDuration(maxSoakMs)} without a verdict`;
}

/** When the gates are next checked, as a countdown from `now`. */
export function formatNextCheck(progress: StageProgress, now: number): string | null {
  if (progress.nextCheckAt === null) return null;
  const left = progress.nextCheckAt - now;
  const every = `every ${formatDuration(progress.checkIntervalMs)}`;
  return left > 0 ? `in ${formatDuration(left)} (${every})` : `due now (${every})`;
}

/** The last gate verdict with its time, and whether something happened since that makes it history. */
export function formatGates(release: ReleaseAnswer): string[] {
  const report = release.gates;
  if (!report) return [];
  const reasons = report.evidence.findings.filter((f) => !f.dryRun).map((f) => f.message);
  const lines = [`gates ${report.verdict} at ${iso(report.at)} (stage ${report.stageIndex + 1})${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`];
  const later = gateStaleness(release);
  if (later) lines.push(`  stale: ${later.event} by ${later.actor} at ${iso(later.at)} came after this verdict`);
  return lines;
}

/** Where a release stands now: what `release show` prints above the history, and what `watch` redraws. */
export function formatReleaseSummary(release: ReleaseAnswer, now: number): string[] {
  const lines = [
    `release ${release.id}  ${release.appId} ${release.version} on ${release.channel} (baseline ${release.baselineVersion ?? 'builtin'})`,
    `status ${release.status}   ${formatStage(release)}${release.live ? '' : '   (Temporal unreachable: published state)'}`,
  ];
  const progress = stageProgress(release);
  if (progress) {
    lines.push(`soaked ${formatSoak(progress)}`);
    const nextCheck = formatNextCheck(progress, now);
    if (nextCheck) lines.push(`next check ${nextCheck}`);
  }
  if (release.waitingSegments.length > 0) lines.push(`waiting for the maintenance window of ${release.waitingSegments.join(', ')}`);
  lines.push(`exposure ${formatExposure(release)}`);
  const mapped = Object.entries(release.segmentBundles ?? {});
  if (mapped.length > 0) lines.push(`personalized: ${mapped.map(([segment, version]) => `${segment} gets ${version}`).join(', ')}; every other segment ${release.version}`);
  return [...lines, ...formatGates(release)];
}

/** A release as on-call reads it: where it stands, what the gates said, and how it got there. */
export function formatRelease(release: ReleaseAnswer, now: number): string[] {
  const history = release.history.map((t) => `  ${iso(t.at)}  ${t.event.padEnd(18)} ${t.actor.padEnd(22)} ${t.reason}`);
  return [...formatReleaseSummary(release, now), ...(history.length > 0 ? ['history', ...history] : [])];
}
