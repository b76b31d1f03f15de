import { can, ErrorNotice, Loading, Section, useLoad, useRetryWhileDown, useSession, when } from '../components';
import { href } from '../router';
import { describeRule } from '../rule-text';
import type { ApiKey, Bundle, Channel, Segment, Webhook } from '../types';

interface Settings {
  segments: Segment[];
  channels: Channel[];
  bundles: Bundle[];
  webhooks: Webhook[];
  keys: ApiKey[] | null;
}

export function SettingsPage({ appId }: { appId: string }) {
  const { api, me } = useSession();
  const id = encodeURIComponent(appId);
  const loaded = useLoad(async (): Promise<Settings> => {
    const [segments, channels, bundles, webhooks, keys] = await Promise.all([
      api.get<{ segments: Segment[] }>(`/v1/apps/${id}/segments`),
      api.get<{ channels: Channel[] }>(`/v1/apps/${id}/channels`),
      api.get<{ bundles: Bundle[] }>(`/v1/apps/${id}/bundles`),
      api.get<{ webhooks: Webhook[] }>(`/v1/apps/${id}/webhooks`),
      can(me, 'manage_keys') ? api.get<{ apiKeys: ApiKey[] }>('/v1/api-keys') : Promise.resolve(null),
    ]);
    return { segments: segments.segments, channels: channels.channels, bundles: bundles.bundles, webhooks: webhooks.webhooks, keys: keys?.apiKeys ?? null };
  }, [appId, me.role]);
  useRetryWhileDown(loaded);
  const { data, error } = loaded;
  return (
    <>
      <p class="crumbs">
        <a href={href.apps()}>Apps</a> › {appId}
      </p>
      <h1>Settings of {appId}</h1>
      <p class="muted">Read-only: change settings with the CLI or the admin API.</p>
      <ErrorNotice error={error} />
      {!data && !error && <Loading what="settings" />}
      {data && (
        <>
          <Section title="Segments">
            <table>
              <caption>First matching rule wins, by priority</caption>
              <thead>
                <tr>
                  <th scope="col">Segment</th>
                  <th scope="col">Priority</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Maintenance windows</th>
                </tr>
              </thead>
              <tbody>
                {data.segments.map((s) => (
                  <tr key={s.key}>
                    <th scope="row">{s.key}</th>
                    <td>{s.priority}</td>
                    <td>{describeRule(s.rule)}</td>
                    <td>{s.maintenanceWindows.length === 0 ? 'any time' : s.maintenanceWindows.map((w) => `days ${w.days.join(',')} ${w.start}–${w.end} ${w.timeZone ?? ''}`).join('; ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          <Section title="Channels">
            <ul>
              {data.channels.map((c) => (
                <li key={c.name}>
                  <strong>{c.name}</strong>: {c.public ? 'public' : 'private'}, {c.allowSelfAssign ? 'devices may choose it' : 'no self-assignment'}, {c.platforms.join(' and ')}
                </li>
              ))}
            </ul>
          </Section>
          <Section title="Bundles">
            <table>
              <caption>Newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Platforms</th>
                  <th scope="col">Native range</th>
                  <th scope="col">Size</th>
                  <th scope="col">Signed</th>
                  <th scope="col">Registered</th>
                </tr>
              </thead>
              <tbody>
                {data.bundles.map((b) => (
                  <tr key={b.version}>
                    <th scope="row">{b.version}</th>
                    <td>{b.platforms.join(', ')}</td>
                    <td>{b.nativeRange}</td>
                    <td>{(b.size / 1024).toFixed(0)} KiB</td>
                    <td>{b.signed ? 'yes' : 'no'}</td>
                    <td>{when(b.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          <Section title="Webhooks">
            {data.webhooks.length === 0 ? (
              <p class="muted">No webhooks.</p>
            ) : (
              <ul>
                {data.webhooks.map((w) => (
                  <li key={w.id}>
                    {w.url}
                    {w.urlRedacted ? ' (redacted for this role)' : ''}: {w.events.length === 0 ? 'every event' : w.events.join(', ')}
                  </li>
                ))}
              </ul>
            )}
          </Section>
          {data.keys && (
            <Section title="API keys">
              <table>
                <caption>Every key (admins only); secrets are never shown again</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Apps</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {data.keys.map((k) => (
                    <tr key={k.id}>
                      <th scope="row">{k.name}</th>
                      <td>{k.role}</td>
                      <td>{k.appIds?.join(', ') ?? 'all'}</td>
                      <td>{k.revokedAt ? `revoked ${when(k.revokedAt)}` : k.expiresAt ? `expires ${when(k.expiresAt)}` : 'active'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Section>
          )}
        </>
      )}
    </>
  );
}
