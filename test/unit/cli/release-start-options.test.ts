import { describe, expect, it } from 'vitest';
import type { RampartClient } from '../../../cli/rampart-client';
import { runCli } from '../../../cli/run-cli';

/** Keeps what the CLI would send: these tests are about turning options into a request body. */
function recordingClient(sent: Array<{ path: string; body: unknown }>): RampartClient {
  const refuse = () => Promise.reject(new Error('not expected'));
  return {
    get: refuse,
    post: <T>(path: string, body: unknown) => {
      sent.push({ path, body });
      return Promise.resolve({ id: 'r1', version: '2.0.0', channel: 'production', status: 'pending', workflowId: 'release-r1', createdAt: '' } as T);
    },
    put: refuse,
    patch: refuse,
    delete: refuse,
  };
}

describe('releases start with personalization and notifications', () => {
  it('sends --bundle-for as segmentBundles and each --notify as a notification', async () => {
    const sent: Array<{ path: string; body: unknown }> = [];
    await runCli(
      [
        'releases', 'start', 'com.example.app', '2.0.0',
        '--bundle-for', 'power=2.1.0', '--bundle-for', 'new=2.2.0',
        '--notify', '{"segment": "power", "message": {"title": "New"}, "quietHours": {"start": "22:00", "end": "07:00"}}',
      ],
      () => recordingClient(sent),
      { write: () => undefined, tty: false },
    );
    expect(sent).toEqual([
      {
        path: '/v1/apps/com.example.app/releases',
        body: {
          version: '2.0.0',
          plan: 'default',
          segmentBundles: { power: '2.1.0', new: '2.2.0' },
          notifications: [{ segment: 'power', message: { title: 'New' }, quietHours: { start: '22:00', end: '07:00' } }],
        },
      },
    ]);
  });

  it('refuses a --bundle-for without segment=version before calling the API', async () => {
    const sent: Array<{ path: string; body: unknown }> = [];
    const attempt = runCli(['releases', 'start', 'com.example.app', '2.0.0', '--bundle-for', 'power'], () => recordingClient(sent), { write: () => undefined, tty: false });
    await expect(attempt).rejects.toThrow('--bundle-for takes <segment>=<version>, e.g. power=2.1.0; got "power"');
    expect(sent).toEqual([]);
  });
});
