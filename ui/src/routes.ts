// Pure: what a path means and how pages link to each other (unit-tested without a browser).

export type Route =
  | { page: 'apps' }
  | { page: 'release'; id: string }
  | { page: 'device'; appId: string; deviceId: string | null }
  | { page: 'settings'; appId: string }
  | { page: 'missing' };

/** `/`, `/ui/releases/:id`, `/ui/apps/:appId/devices[/:deviceId]`, `/ui/apps/:appId/settings`. */
export function parseRoute(pathname: string): Route {
  const parts = pathname.replace(/^\/ui\/?/, '/').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'apps')) return { page: 'apps' };
  if (parts[0] === 'releases' && parts[1]) return { page: 'release', id: parts[1] };
  if (parts[0] === 'apps' && parts[1] && parts[2] === 'devices') return { page: 'device', appId: parts[1], deviceId: parts[3] ?? null };
  if (parts[0] === 'apps' && parts[1] && parts[2] === 'settings') return { page: 'settings', appId: parts[1] };
  return { page: 'missing' };
}

export const href = {
  apps: () => '/',
  release: (id: string) => `/ui/releases/${encodeURIComponent(id)}`,
  device: (appId: string, deviceId?: string) => `/ui/apps/${encodeURIComponent(appId)}/devices${deviceId ? `/${encodeURIComponent(deviceId)}` : ''}`,
  settings: (appId: string) => `/ui/apps/${encodeURIComponent(appId)}/settings`,
};
