import { PLATFORMS, type Platform } from './bundle';

export interface Channel {
  appId: string;
  name: string;
  /** The default channel of its platforms for devices that name none (or one they may not use). */
  public: boolean;
  allowSelfAssign: boolean;
  platforms: Platform[];
  /** Names app and channel for CodePush clients. */
  deploymentKey: string;
  createdAt: string;
}

/** What an admin chooses of a channel; the rest (deployment key, times) Rampart fills in. */
export type ChannelSettings = Pick<Channel, 'name' | 'public' | 'allowSelfAssign' | 'platforms'>;

/** Every app starts with it: the public channel of every platform. */
export const PRODUCTION_CHANNEL: ChannelSettings = { name: 'production', public: true, allowSelfAssign: false, platforms: [...PLATFORMS] };

export type OverrideSource = 'admin' | 'self';

export interface ChannelOverride {
  channel: string;
  source: OverrideSource;
}

/** A channel a device may be served from on its own say (requested or self-assigned). */
export function isSelectable(channel: Channel, platform: Platform | null): boolean {
  return (channel.public || channel.allowSelfAssign) && (platform === null || channel.platforms.includes(platform));
}

export interface ChannelRequest {
  override: ChannelOverride | undefined;
  /** A channel named by a credential the device holds (a CodePush deployment key): no self-assign check. */
  keyed?: string | undefined;
  /** The channel the device asks for. */
  requested?: string | undefined;
  /** null: the protocol does not say (CodePush); platform checks are skipped. */
  platform: Platform | null;
}

/** Which step of channel resolution decided; `none`: no channel serves the device. */
export type ChannelStep = 'admin_override' | 'self_assigned' | 'deployment_key' | 'requested' | 'public_default' | 'none';

export interface ChannelExplanation {
  channel: string | null;
  step: ChannelStep;
}

/**
 * DESIGN §7 step 1: a forced override, else a self-assignment the channel allows, else the channel
 * of the device's deployment key, else the channel the device asks for if it may use it, else the
 * public channel of its platform. Names the step that decided, so a device's story can say why.
 */
export function explainChannel(channels: ReadonlyMap<string, Channel>, { override, keyed, requested, platform }: ChannelRequest): ChannelExplanation {
  if (override) {
    const channel = channels.get(override.channel);
    if (channel && (override.source === 'admin' || channel.allowSelfAssign)) {
      return { channel: channel.name, step: override.source === 'admin' ? 'admin_override' : 'self_assigned' };
    }
  }
  if (keyed && channels.has(keyed)) return { channel: keyed, step: 'deployment_key' };
  if (requested) {
    const channel = channels.get(requested);
    if (channel && isSelectable(channel, platform)) return { channel: channel.name, step: 'requested' };
  }
  const fallback = publicChannelFor(channels, platform);
  return fallback ? { channel: fallback.name, step: 'public_default' } : { channel: null, step: 'none' };
}

/** The channel `explainChannel` decides on (null: no channel serves this device). */
export function resolveChannel(channels: ReadonlyMap<string, Channel>, request: ChannelRequest): string | null {
  return explainChannel(channels, request).channel;
}

/** The public channel of a platform; the first by name when several claim it. */
export function publicChannelFor(channels: ReadonlyMap<string, Channel>, platform: Platform | null): Channel | undefined {
  let best: Channel | undefined;
  for (const channel of channels.values()) {
    if (!channel.public || (platform !== null && !channel.platforms.includes(platform))) continue;
    if (!best || channel.name < best.name) best = channel;
  }
  return best;
}
