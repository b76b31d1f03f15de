import { COMMAND_PATHS } from '../../domain/rollout-machine';
import type { Permission } from '../../domain/access';

/** What a route acts on: an app in its path, a release in its path (its app decides), or nothing app-bound. */
export type Target = 'app' | 'release' | 'none';

export interface RouteRule {
  permission: Permission;
  target: Target;
}

/**
 * Every admin route and the permission of `domain/access.ts` it requires. A route registered on the
 * app and missing here (or from the two lists below) fails the matrix.
 */
export const ADMIN_ROUTES: Record<string, RouteRule> = {
  'GET /v1/apps': { permission: 'read', target: 'none' },
  'GET /v1/apps/:appId': { permission: 'read', target: 'app' },
  'POST /v1/apps/:appId/bundles': { permission: 'write_bundles', target: 'app' },
  'GET /v1/apps/:appId/bundles': { permission: 'read', target: 'app' },
  'POST /v1/apps/:appId/expo/bundles': { permission: 'write_bundles', target: 'app' },
  'GET /v1/apps/:appId/expo/bundles': { permission: 'read', target: 'app' },
  // The first download makes the app's code-signing key.
  'GET /v1/apps/:appId/expo/certificate': { permission: 'write_bundles', target: 'app' },
  'GET /v1/apps/:appId/policy': { permission: 'manage_policy', target: 'app' },
  'PUT /v1/apps/:appId/policy': { permission: 'manage_policy', target: 'app' },
  'POST /v1/apps/:appId/releases': { permission: 'start_releases', target: 'app' },
  'GET /v1/apps/:appId/releases': { permission: 'read', target: 'app' },
  'GET /v1/releases/:id': { permission: 'read', target: 'release' },
  ...Object.fromEntries([...COMMAND_PATHS.keys()].map((path) => [`POST /v1/releases/:id/${path}`, { permission: 'command_releases', target: 'release' }])),
  'POST /v1/releases/:id/force-withdraw': { permission: 'command_releases', target: 'release' },
  'POST /v1/apps/:appId/webhooks': { permission: 'configure_app', target: 'app' },
  'GET /v1/apps/:appId/webhooks': { permission: 'read', target: 'app' },
  'DELETE /v1/apps/:appId/webhooks/:id': { permission: 'configure_app', target: 'app' },
  'POST /v1/apps/:appId/channels': { permission: 'configure_app', target: 'app' },
  'GET /v1/apps/:appId/channels': { permission: 'read', target: 'app' },
  'PATCH /v1/apps/:appId/channels/:name': { permission: 'configure_app', target: 'app' },
  'PUT /v1/apps/:appId/devices/:deviceId/channel': { permission: 'configure_app', target: 'app' },
  'DELETE /v1/apps/:appId/devices/:deviceId/channel': { permission: 'configure_app', target: 'app' },
  'POST /v1/apps/:appId/segments': { permission: 'configure_app', target: 'app' },
  'GET /v1/apps/:appId/segments': { permission: 'read', target: 'app' },
  'PUT /v1/apps/:appId/segments/:key': { permission: 'configure_app', target: 'app' },
  'DELETE /v1/apps/:appId/segments/:key': { permission: 'configure_app', target: 'app' },
  'GET /v1/apps/:appId/devices/:deviceId': { permission: 'read', target: 'app' },
  'GET /v1/apps/:appId/adoption': { permission: 'read', target: 'app' },
  'GET /v1/releases/:id/insights': { permission: 'read', target: 'release' },
  'GET /v1/releases/:id/notifications': { permission: 'read', target: 'release' },
  'POST /v1/apps/:appId/experiments': { permission: 'start_releases', target: 'app' },
  'GET /v1/releases/:id/experiment': { permission: 'read', target: 'release' },
  'POST /v1/releases/:id/stop-arm': { permission: 'command_releases', target: 'release' },
  'POST /v1/releases/:id/promote-arm': { permission: 'command_releases', target: 'release' },
  'GET /v1/audit': { permission: 'read_audit', target: 'none' },
  // Every key may ask who it is; the dashboard shows only what the answer allows.
  'GET /v1/me': { permission: 'read', target: 'none' },
  'GET /v1/releases/:id/events': { permission: 'read', target: 'release' },
};

/**
 * DESIGN §9: key management is for unscoped admins, and a key never reaches beyond its scope, so an
 * app-scoped admin may not mint apps or keys either, nor rotate the key every device of an app
 * trusts: everyone else is refused with 403.
 */
export const UNSCOPED_ADMIN_ONLY = ['POST /v1/apps', 'POST /v1/api-keys', 'GET /v1/api-keys', 'DELETE /v1/api-keys/:id', 'POST /v1/apps/:appId/signing-key/rotate'];

/** Device protocols and operations endpoints: no API key by design. */
export const PUBLIC_ROUTES = [
  'POST /v1/apps/:appId/check',
  // The push relay's: the token in the path is the credential (scoped to one delivery, expiring).
  'GET /v1/notifications/:token/devices',
  // Devices and app builders verify answers with it.
  'GET /v1/apps/:appId/signing-key',
  'POST /v1/apps/:appId/events',
  'POST /updates',
  'GET /updates',
  'POST /stats',
  'POST /channel_self',
  'PUT /channel_self',
  'GET /channel_self',
  'DELETE /channel_self',
  'GET /updateCheck',
  'GET /v0.1/public/codepush/update_check',
  'GET /v1/apps/:appId/expo/manifest',
  'POST /v1/apps/:appId/expo/manifest',
  'POST /v1/apps/:appId/expo/events',
  'POST /v0.1/public/codepush/report_status/deploy',
  'POST /v0.1/public/codepush/report_status/download',
  'POST /reportStatus/deploy',
  'POST /reportStatus/download',
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  // The dashboard's page and assets: it signs in with a key and calls the admin API like anyone else.
  'GET /',
  'GET /ui',
  'GET /ui/*path',
];
