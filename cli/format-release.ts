const pct = (bps: unknown) => `${(Number(bps) / 100).toFixed(2)} %`;
const text = (value: unknown, fallback: string) => (typeof value === 'string' || typeof value === 'number' ? String(value) : fallback);

/** A release as on-call reads it: where it stands, what the gates said, and how it got there. */
export function formatRelease(r: Record<string, unknown>): string[] {
  const plan = r.plan as { stages: Array<{ name: string }> } | undefined;
  const exposure = Object.entries((r.exposure ?? {}) as Record<string, number>).map(([segment, bps]) => `${segment} ${pct(bps)}`);
  const gates = r.gates as { verdict: string; evidence: { findings: Array<{ message: string; dryRun: boolean }> } } | null;
  const history = (r.history ?? []) as Array<{ at: number; event: string; actor: string; reason: string }>;
  const lines = [
    `release ${String(r.id)}  ${String(r.appId)} ${String(r.version)} on ${String(r.channel)} (baseline ${text(r.baselineVersion, 'builtin')})`,
    `status ${String(r.status)}   stage ${Number(r.stageIndex) + 1}/${plan?.stages.length ?? '?'} ${text(r.stageName, '')}${r.live ? '' : '   (Temporal unreachable: published state)'}`,
    `exposure ${exposure.join(', ') || 'none yet'}`,
  ];
  if (gates) {
    const reasons = gates.evidence.findings.filter((f) => !f.dryRun).map((f) => f.message);
    lines.push(`gates ${gates.verdict}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`);
  }
  if (history.length > 0) lines.push('history');
  for (const t of history) lines.push(`  ${new Date(t.at).toISOString()}  ${t.event.padEnd(18)} ${t.actor.padEnd(22)} ${t.reason}`);
  return lines;
}
