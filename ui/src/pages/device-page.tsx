import { useState } from 'preact/hooks';
import { ErrorNotice, Loading, Section, useLoad, useSession, when } from '../components';
import { href, navigate } from '../router';

interface DeviceStory {
  deviceId: string;
  profile: { platform: string; nativeVersion: string; bundleVersion: string; channel: string | null; attributes: Record<string, unknown>; firstSeen: string; lastSeen: string };
  channel: { name: string | null; reason: string };
  segment: { key: string; reason: string };
  decision: { action: string; releaseId: string | null; cohort: string };
  events: Array<{ type: string; bundleVersion: string | null; occurredAt: string; detail?: unknown }>;
}

function Story({ appId, deviceId }: { appId: string; deviceId: string }) {
  const { api } = useSession();
  const { data, error } = useLoad(() => api.get<DeviceStory>(`/v1/apps/${encodeURIComponent(appId)}/devices/${encodeURIComponent(deviceId)}`), [appId, deviceId]);
  if (error) return <ErrorNotice error={error} />;
  if (!data) return <Loading what="the device" />;
  const { profile } = data;
  return (
    <>
      <Section title={`Device ${data.deviceId}`} id="device">
        <dl class="facts">
          <dt>Runs</dt>
          <dd>
            bundle {profile.bundleVersion} on {profile.platform} native {profile.nativeVersion}
          </dd>
          <dt>Channel</dt>
          <dd>
            {data.channel.name ?? 'none'} — {data.channel.reason}
          </dd>
          <dt>Segment</dt>
          <dd>
            {data.segment.key} — {data.segment.reason}
          </dd>
          <dt>Next answer</dt>
          <dd data-testid="device-action">
            {data.decision.action} ({data.decision.cohort})
            {data.decision.releaseId && (
              <>
                {' '}
                from <a href={href.release(data.decision.releaseId)}>release {data.decision.releaseId}</a>
              </>
            )}
          </dd>
          <dt>Seen</dt>
          <dd>
            first {when(profile.firstSeen)}, last {when(profile.lastSeen)}
          </dd>
          <dt>Attributes</dt>
          <dd>
            <code>{JSON.stringify(profile.attributes)}</code>
          </dd>
        </dl>
      </Section>
      <Section title="Recent events">
        {data.events.length === 0 ? (
          <p class="muted">No events recorded.</p>
        ) : (
          <table>
            <caption>Newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Bundle</th>
              </tr>
            </thead>
            <tbody>
              {data.events.map((e, i) => (
                <tr key={i}>
                  <td>{when(e.occurredAt)}</td>
                  <td>{e.type}</td>
                  <td>{e.bundleVersion ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

export function DevicePage({ appId, deviceId }: { appId: string; deviceId: string | null }) {
  const [value, setValue] = useState(deviceId ?? '');
  return (
    <>
      <p class="crumbs">
        <a href={href.apps()}>Apps</a> › {appId}
      </p>
      <h1>Device lookup</h1>
      <form
        class="inline"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) navigate(href.device(appId, value.trim()));
        }}
      >
        <label for="device-id">Device id</label>
        <input id="device-id" value={value} onInput={(e) => setValue(e.currentTarget.value)} required />
        <button type="submit">Look up</button>
      </form>
      {deviceId && <Story appId={appId} deviceId={deviceId} />}
    </>
  );
}
