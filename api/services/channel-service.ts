import type { Principal } from '../../domain/access';
import type { Channel, ChannelSettings } from '../../domain/channel';
import { ConflictError } from '../../domain/errors/conflict-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import type { Stores, Transactor } from '../../db/create-stores';
import { newDeploymentKey } from '../../platform/ids';
import { announceAppChange } from './app-audit';
import type { AppService } from './app-service';
import { forcedDetails, guardPopulation } from './population-guard';

export interface ChannelService {
  create(appId: string, input: ChannelSettings, principal: Principal): Promise<Channel>;
  /**
   * `public`, `platforms` and `allowSelfAssign` decide which devices a channel serves, so changing any
   * of them under the channel's active release is refused unless an admin forces it.
   */
  update(appId: string, name: string, changes: Partial<Omit<ChannelSettings, 'name'>>, principal: Principal, options?: { force: boolean }): Promise<Channel>;
  list(appId: string, principal: Principal): Promise<Channel[]>;
  /**
   * Forces a device into a channel (beats whatever the device asks for). Not guarded by active
   * releases: one device moved by hand is support work and does not shift a release's population.
   */
  overrideDevice(appId: string, deviceId: string, channel: string, principal: Principal): Promise<void>;
  clearDeviceOverride(appId: string, deviceId: string, principal: Principal): Promise<void>;
}

/** At most one public channel per platform: otherwise which one a device defaults to would be arbitrary. */
function publicClash(existing: Channel[], candidate: Pick<Channel, 'name' | 'public' | 'platforms'>): Channel | undefined {
  if (!candidate.public) return undefined;
  return existing.find((c) => c.name !== candidate.name && c.public && c.platforms.some((p) => candidate.platforms.includes(p)));
}

function changedSettings(current: Channel, changes: Partial<Omit<ChannelSettings, 'name'>>): boolean {
  return (Object.keys(changes) as Array<keyof typeof changes>).some((k) => JSON.stringify(changes[k]) !== JSON.stringify(current[k]));
}

export function createChannelService(stores: Pick<Stores, 'channels'>, apps: AppService, transact: Transactor): ChannelService {

  const clashError = (clash: Channel) =>
    new ConflictError(`channel ${clash.name} is already public for ${clash.platforms.join(', ')}; one public channel per platform`, 'public_channel_conflict', {
      channel: clash.name,
    });

  return {
    async create(appId, input, principal) {
      await apps.get(appId, principal);
      return transact(async (tx) => {
        const clash = publicClash(await tx.channels.list(appId), input);
        if (clash) throw clashError(clash);
        const channel = await tx.channels.insert({ appId, ...input, deploymentKey: newDeploymentKey() });
        if (!channel) throw new ConflictError(`app ${appId} has a channel ${input.name} already`, 'channel_exists');
        await announceAppChange(tx, principal, 'channel.create', appId, { channel: input.name, public: input.public, allowSelfAssign: input.allowSelfAssign, platforms: input.platforms });
        return channel;
      });
    },
    async update(appId, name, changes, principal, options = { force: false }) {
      await apps.get(appId, principal);
      return transact(async (tx) => {
        const channels = await tx.channels.list(appId);
        const current = channels.find((c) => c.name === name);
        if (!current) throw new NotFoundError(`app ${appId} has no channel ${name}`);
        const clash = publicClash(channels, { ...current, ...changes });
        if (clash) throw clashError(clash);
        const active = changedSettings(current, changes) ? await tx.releases.findActive(appId, name) : null;
        const forced = guardPopulation(`changing channel ${name}`, active ? [active] : [], options.force, principal);
        const updated = await tx.channels.update(appId, name, changes);
        if (!updated) throw new NotFoundError(`app ${appId} has no channel ${name}`);
        await announceAppChange(tx, principal, 'channel.update', appId, { channel: name, ...changes, ...forcedDetails(forced) });
        return updated;
      });
    },
    async list(appId, principal) {
      await apps.get(appId, principal);
      return stores.channels.list(appId);
    },
    async overrideDevice(appId, deviceId, channel, principal) {
      await apps.get(appId, principal);
      await transact(async (tx) => {
        if (!(await tx.channels.get(appId, channel))) throw new NotFoundError(`app ${appId} has no channel ${channel}`);
        await tx.overrides.set(appId, deviceId, channel, 'admin');
        await announceAppChange(tx, principal, 'device.channel_override', appId, { deviceId, channel });
      });
    },
    async clearDeviceOverride(appId, deviceId, principal) {
      await apps.get(appId, principal);
      await transact(async (tx) => {
        if (!(await tx.overrides.remove(appId, deviceId))) throw new NotFoundError(`device ${deviceId} of app ${appId} has no channel override`);
        await announceAppChange(tx, principal, 'device.channel_override_removed', appId, { deviceId });
      });
    },
  };
}
