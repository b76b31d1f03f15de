import type { Command } from './command-context';

interface Compatibility {
  version: string;
  compatible: boolean;
  needsNativeUpdate: boolean;
}

/** The parts of `GET /v1/apps/:appId/devices/:deviceId` the human view reads. */
export interface DeviceStoryAnswer {
  appId: string;
  deviceId: string;
  profile: {
    platform: string | null;
    nativeVersion: string | null;
    bundleVersion: string | null;
    channel: string | null;
    attributes: Record<string, unknown>;
    firstSeen: string;
    lastSeen: string;
    engagement: { sessionsLast7d: number; daysSinceFirstSeen: number };
  };
  assumptions: { note: string };
  channel: { name: string | null; step: string; reason: string };
  segment: { key: string; matchedRule: { key: string; priority: number; rule: unknown } | null; reason: string };
  release: {
    releaseId: string;
    status: string;
    stageIndex: number;
    bucket: number | null;
    exposureBps: number;
    controlSlice: { fromBps: number; toBps: number };
    cohort: string;
    target: Compatibility;
    baseline: Compatibility | null;
    withdrawnVersions: string[];
  } | null;
  decision: { action: string };
  answers: { native: unknown; capgo: unknown; codepush: unknown; expo: unknown };
  events: Array<{ type: string; bundleVersion: string; occurredAt: string; cohort: string }>;
}

const compat = (label: string, c: Compatibility | null) =>
  c === null
    ? `  ${label}: the bundle in the binary`
    : `  ${label} ${c.version}: ${c.compatible ? 'compatible' : 'not compatible'}${c.needsNativeUpdate ? ' (needs a store update first)' : ''}`;

function releaseLines(release: NonNullable<DeviceStoryAnswer['release']>): string[] {
  const { controlSlice: control } = release;
  return [
    `release ${release.releaseId} (${release.status}, stage ${release.stageIndex + 1})`,
    `  bucket ${release.bucket ?? 'none (unusable device id)'} vs exposure ${release.exposureBps} bps of its segment → ${release.cohort}` +
      ` (control is buckets ${control.fromBps}–${control.toBps - 1})`,
    compat('target', release.target),
    compat('baseline', release.baseline),
    ...(release.withdrawnVersions.length > 0 ? [`  withdrawn on this channel: ${release.withdrawnVersions.join(', ')}`] : []),
  ];
}

/** A device's story as lines: profile, then each step of its assignment, then what each protocol answers. */
export function storyLines(story: DeviceStoryAnswer): string[] {
  const { profile, segment } = story;
  const attributes = Object.entries(profile.attributes).map(([k, v]) => `${k}=${String(v)}`);
  return [
    `device ${story.deviceId} of ${story.appId}`,
    `  ${profile.platform ?? 'unknown platform'}, native ${profile.nativeVersion ?? '?'}, runs ${profile.bundleVersion ?? '?'}, channel ${profile.channel ?? '?'}`,
    `  first seen ${profile.firstSeen} (${profile.engagement.daysSinceFirstSeen} d ago), last seen ${profile.lastSeen}, ${profile.engagement.sessionsLast7d} sessions in 7 d`,
    ...(attributes.length > 0 ? [`  attributes ${attributes.join(' ')}`] : []),
    `channel ${story.channel.name ?? '(none)'} [${story.channel.step}]: ${story.channel.reason}`,
    `segment ${segment.key}: ${segment.reason}${segment.matchedRule ? ` — ${JSON.stringify(segment.matchedRule.rule)}` : ''}`,
    ...(story.release ? releaseLines(story.release) : ['no release on this channel']),
    `answer: ${story.decision.action}`,
    `  native   ${JSON.stringify(story.answers.native)}`,
    `  capgo    ${JSON.stringify(story.answers.capgo)}`,
    `  codepush ${JSON.stringify(story.answers.codepush)}`,
    `  expo     ${JSON.stringify(story.answers.expo)}`,
    `recent events: ${story.events.length === 0 ? 'none' : ''}`,
    ...story.events.slice(0, 10).map((e) => `  ${e.occurredAt} ${e.type} on ${e.bundleVersion} (${e.cohort})`),
    `(${story.assumptions.note})`,
  ];
}

/** `device …`. */
export const deviceCommands: Record<string, Command> = {
  'device explain': async (ctx) => {
    const story = await ctx.client.get<DeviceStoryAnswer>(`/v1/apps/${ctx.pathArg(0, 'appId')}/devices/${ctx.pathArg(1, 'deviceId')}`);
    ctx.show(story, () => storyLines(story));
  },
};
