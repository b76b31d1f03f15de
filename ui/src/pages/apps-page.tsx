import { ErrorNotice, ExposureBars, Loading, Section, share, StatusBadge, useLoad, useRetryWhileDown, useSession } from '../components';
import { href } from '../router';
import { FINISHED, type Adoption, type App, type Channel, type Release, type ReleaseSummary } from '../types';

/** One channel: the row shows at once; the live state of an active release follows (a Temporal query). */
function ChannelRow({ channel, release }: { channel: Channel; release: ReleaseSummary | null }) {
  const { api } = useSession();
  const active = release !== null && !FINISHED.includes(release.status);
  const { data: live } = useLoad(async () => (active ? api.get<Release>(`/v1/releases/${encodeURIComponent(release.id)}`) : null), [release?.id, active]);
  return (
    <tr>
      <th scope="row">{channel.name}</th>
      <td>{release ? <a href={href.release(release.id)}>{release.version}</a> : <span class="muted">no release</span>}</td>
      <td>{release ? <StatusBadge status={live?.status ?? release.status} /> : '—'}</td>
      <td>{live ? <ExposureBars exposure={live.exposure} label={`Exposure of ${live.version} on ${channel.name}`} /> : <span class="muted">{active ? 'loading…' : '—'}</span>}</td>
    </tr>
  );
}

function AppCard({ app }: { app: App }) {
  const { api } = useSession();
  const loaded = useLoad(async () => {
    const id = encodeURIComponent(app.id);
    const [{ channels }, { releases }, adoption] = await Promise.all([
      api.get<{ channels: Channel[] }>(`/v1/apps/${id}/channels`),
      api.get<{ releases: ReleaseSummary[] }>(`/v1/apps/${id}/releases?limit=50`),
      api.get<Adoption>(`/v1/apps/${id}/adoption`),
    ]);
    const rows = channels.map((channel) => ({ channel, release: releases.find((r) => r.channel === channel.name) ?? null }));
    return { rows, adoption };
  }, [app.id]);
  useRetryWhileDown(loaded);
  const { data, error } = loaded;
  return (
    <Section title={`${app.name} (${app.id})`} id={`app-${app.id}`}>
      <p class="actions">
        <a href={href.settings(app.id)}>Settings</a> · <a href={href.device(app.id)}>Device lookup</a>
      </p>
      <ErrorNotice error={error} />
      {!data ? (
        !error && <Loading what="channels" />
      ) : (
        <>
          <table>
            <caption>Channels and their latest release</caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Release</th>
                <th scope="col">Status</th>
                <th scope="col">Exposure per segment</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map(({ channel, release }) => (
                <ChannelRow key={channel.name} channel={channel} release={release} />
              ))}
            </tbody>
          </table>
          <h3>Adoption (last {data.adoption.windowHours} h, {data.adoption.activeDevices} active devices)</h3>
          {data.adoption.versions.length === 0 ? (
            <p class="muted">No device has checked in within the window.</p>
          ) : (
            <ul class="bars" aria-label={`Bundle versions on ${app.name}'s devices`}>
              {data.adoption.versions.slice(0, 6).map((v) => (
                <li key={v.bundleVersion ?? 'builtin'}>
                  <span class="bar-label">{v.bundleVersion ?? 'built-in'}</span>
                  <span class="bar" role="meter" aria-valuemin={0} aria-valuemax={1} aria-valuenow={v.share} aria-label={`${v.bundleVersion ?? 'built-in'} share`}>
                    <span class="bar-fill" style={{ width: `${v.share * 100}%` }} />
                  </span>
                  <span class="bar-value">
                    {share(v.share)} ({v.devices})
                  </span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Section>
  );
}

export function AppsPage() {
  const { api } = useSession();
  const loaded = useLoad(() => api.get<{ apps: App[] }>('/v1/apps'), []);
  useRetryWhileDown(loaded);
  const { data, error } = loaded;
  return (
    <>
      <h1>Apps</h1>
      <ErrorNotice error={error} />
      {!data && !error && <Loading what="apps" />}
      {data?.apps.length === 0 && <p>No apps yet: register one with the CLI or POST /v1/apps.</p>}
      {data?.apps.map((app) => <AppCard key={app.id} app={app} />)}
    </>
  );
}
