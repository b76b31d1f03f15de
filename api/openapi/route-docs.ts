import type { z } from 'zod';
import {
  adoptionQuerySchema,
  auditQuerySchema,
  commandSchema,
  createApiKeySchema,
  createAppSchema,
  createBundleSchema,
  createChannelSchema,
  createReleaseSchema,
  createSegmentSchema,
  createWebhookSchema,
  deviceChannelSchema,
  forceQuerySchema,
  insightsQuerySchema,
  listReleasesQuerySchema,
  updateAppPolicySchema,
  updateChannelSchema,
  updateSegmentSchema,
} from '../admin/schemas';
import { channelListRequestSchema, channelSelfRequestSchema, statsEventSchema, updateRequestSchema } from '../device/capgo/capgo-schemas';
import { deployReportSchema, downloadReportSchema, updateCheckQuerySchema } from '../device/codepush/codepush-schemas';
import { checkRequestSchema, eventsRequestSchema } from '../device/native-schemas';
import { createExpoBundleSchema, expoEventsRequestSchema } from '../device/expo/expo-schemas';
import { COMMAND_PATHS } from '../../domain/rollout-machine';
import { notificationDevicesQuerySchema } from '../relay/notification-devices-routes';
import { createExperimentSchema, promoteArmSchema, stopArmSchema } from '../admin/experiment-schemas';

export type RouteAudience = 'admin' | 'device' | 'ops' | 'dashboard';

export interface RouteDoc {
  audience: RouteAudience;
  summary: string;
  description: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The success status when it is not 200. */
  status?: number;
  /** Success responses that are not JSON. */
  produces?: 'text/event-stream' | 'text/html' | 'multipart/mixed';
}

const admin = (summary: string, description: string, extra: Partial<RouteDoc> = {}): RouteDoc => ({ audience: 'admin', summary, description, ...extra });
const device = (summary: string, description: string, extra: Partial<RouteDoc> = {}): RouteDoc => ({ audience: 'device', summary, description, ...extra });

const COMMAND_DOCS: Record<string, string> = {
  pause: 'Freezes the release at its current exposure (devices keep what they have).',
  resume: 'Continues a paused release where it stopped.',
  promote: 'Skips the rest of the current stage and enters the next one.',
  'promote-full': 'Exposes everyone now and completes the release.',
  rollback: "Sends every exposed device back to the baseline bundle; final. On the channel's latest completed release it reverts it (409 not_latest_release for an older one).",
  abort: 'Stops the release where it is, without sending devices back; final.',
};

const commandDocs = Object.fromEntries(
  [...COMMAND_PATHS.keys()].map((path) => [
    `POST /v1/releases/{id}/${path}`,
    admin(`${path} a release`, `${COMMAND_DOCS[path] ?? path} Needs role oncall or admin; the reason goes to the audit log. Answers with the new state; 409 with the reason when the release cannot take the command. An Idempotency-Key header makes retries safe.`, { body: commandSchema }),
  ]),
);

/**
 * What every route does, keyed `METHOD /path` with OpenAPI path parameters. The OpenAPI document is
 * built from these and the app's own routes; a route missing here fails a test.
 */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /': { audience: 'dashboard', summary: 'Dashboard', description: 'The dashboard page (built from ui/); it uses only this API.', produces: 'text/html' },
  'GET /ui': { audience: 'dashboard', summary: 'Dashboard', description: 'The dashboard page.', produces: 'text/html' },
  'GET /ui/{path}': { audience: 'dashboard', summary: 'Dashboard page', description: 'A page of the dashboard (client-side route); assets live under /ui/assets/.', produces: 'text/html' },
  'GET /openapi.json': { audience: 'ops', summary: 'This document', description: 'OpenAPI 3.1 description of every route, generated from the request schemas.' },
  'GET /healthz': { audience: 'ops', summary: 'Liveness and dependencies', description: 'Answers 200 while the process runs, with each dependency (PostgreSQL, Temporal) reported ok or down and the overall status ok or degraded.' },
  'GET /readyz': { audience: 'ops', summary: 'Readiness', description: 'Answers 200 once the device snapshot is loaded (checks are then served from memory, whatever the dependencies); 503 before.' },
  'GET /v1/apps/{appId}/signing-key': { audience: 'device', summary: 'Public signing keys', description: "The app's Ed25519 public keys that sign device answers (current and recently rotated)." },

  'POST /v1/apps/{appId}/check': device('Update check (native v1)', 'Which bundle the device should run: none, update (with the bundle) or rollback. Signed with the app key.', { body: checkRequestSchema }),
  'POST /v1/apps/{appId}/events': device('Device events (native v1)', 'Installs, failures, crashes, JS errors, sessions and feature use; durable before 202.', { body: eventsRequestSchema, status: 202 }),
  'GET /updates': device('Capgo update check (GET)', 'Capgo-compatible: refused, the plugin POSTs.'),
  'POST /updates': device('Capgo update check', 'Capgo-compatible update check.', { body: updateRequestSchema }),
  'POST /stats': device('Capgo stats', 'Capgo-compatible device events (one or a batch).', { body: statsEventSchema }),
  'POST /channel_self': device('Capgo: choose a channel', 'Assigns the device to a channel that allows self-assignment.', { body: channelSelfRequestSchema }),
  'PUT /channel_self': device('Capgo: current channel', "The device's channel.", { body: channelSelfRequestSchema }),
  'GET /channel_self': device('Capgo: list channels', 'Channels the device may choose.', { query: channelListRequestSchema }),
  'DELETE /channel_self': device('Capgo: leave a channel', "Removes the device's self-assignment.", { body: channelSelfRequestSchema }),
  'GET /v0.1/public/codepush/update_check': device('CodePush update check', 'CodePush-compatible update check (snake_case).', { query: updateCheckQuerySchema }),
  'GET /updateCheck': device('CodePush update check (legacy)', 'CodePush-compatible update check (camelCase).', { query: updateCheckQuerySchema }),
  'POST /v0.1/public/codepush/report_status/deploy': device('CodePush deploy report', 'Reports an install that succeeded or failed.', { body: deployReportSchema }),
  'POST /reportStatus/deploy': device('CodePush deploy report (legacy)', 'Reports an install that succeeded or failed.', { body: deployReportSchema }),
  'POST /v0.1/public/codepush/report_status/download': device('CodePush download report', 'Reports a downloaded package.', { body: downloadReportSchema }),
  'POST /reportStatus/download': device('CodePush download report (legacy)', 'Reports a downloaded package.', { body: downloadReportSchema }),
  'GET /v1/apps/{appId}/expo/manifest': device(
    'Expo Updates v1 manifest',
    'expo-updates asks with headers expo-protocol-version: 1, expo-platform, expo-runtime-version (plays the native version), and optionally expo-channel-name, expo-current-update-id, expo-embedded-update-id, expo-expect-signature and the app\'s expo-device-id (without it a device is never a canary). multipart/mixed answers carry a manifest (with extensions) or a directive (noUpdateAvailable, rollBackToEmbedded); application/expo+json and application/json carry a manifest only (406 for a directive). Parts are signed (expo-signature, rsa-v1_5-sha256) when asked. 406 for a missing or other protocol version.',
    { produces: 'multipart/mixed' },
  ),
  'POST /v1/apps/{appId}/expo/manifest': device('Expo Updates v1 manifest (POST)', 'The same as the GET, for clients that POST; any body is ignored.', { produces: 'multipart/mixed' }),
  'POST /v1/apps/{appId}/expo/events': device(
    'Device events (Expo)',
    'The native events with the runtime version instead of the native version, each naming the update it happened on (updateId; null: the embedded update); durable before 202.',
    { body: expoEventsRequestSchema, status: 202 },
  ),

  'GET /v1/me': admin('Who am I', "The calling key's id, name, role, app scope (null: every app) and what it may do."),
  'POST /v1/api-keys': admin('Create an API key', 'Unscoped admins only; never more rights or wider scope than the caller. The secret is shown once.', { body: createApiKeySchema, status: 201 }),
  'GET /v1/api-keys': admin('List API keys', 'Keys without their secrets (admin only).'),
  'DELETE /v1/api-keys/{id}': admin('Revoke an API key', 'The key stops working at once on every instance within the cache time.'),
  'GET /v1/audit': admin('Audit log', 'Every state-changing call, refusal and failed sign-in.', { query: auditQuerySchema }),
  'POST /v1/apps': admin('Register an app', 'A reverse-DNS id and a name.', { body: createAppSchema, status: 201 }),
  'GET /v1/apps': admin('List apps', 'The apps the key may see.'),
  'GET /v1/apps/{appId}': admin('An app', 'One app.'),
  'POST /v1/apps/{appId}/bundles': admin('Register a bundle', 'A web bundle: URL, sha256, size, platforms, native range, optional signature.', { body: createBundleSchema, status: 201 }),
  'GET /v1/apps/{appId}/bundles': admin('List bundles', "The app's bundles, newest first."),
  'POST /v1/apps/{appId}/expo/bundles': admin(
    'Register an Expo bundle',
    'A bundle for expo-updates: per platform a launch asset and assets (key, contentType, fileExtension, url, base64url SHA-256 hash), one runtime version (plays the native range). Each platform gets a stable update id.',
    { body: createExpoBundleSchema, status: 201 },
  ),
  'GET /v1/apps/{appId}/expo/bundles': admin('List Expo manifests', "The Expo manifests of the app's bundles, per platform with their update ids."),
  'GET /v1/apps/{appId}/expo/certificate': admin(
    'Expo code-signing certificate',
    'The self-signed certificate the app embeds (updates.codeSigningCertificate) with its codeSigningMetadata; the app\'s RSA key is made on the first request. Needs a key that may register bundles.',
  ),
  'GET /v1/apps/{appId}/policy': admin('App policy', 'Which roles may disable gates, dry-run or skip stages.'),
  'PUT /v1/apps/{appId}/policy': admin('Change the app policy', 'Admin only.', { body: updateAppPolicySchema }),
  'POST /v1/apps/{appId}/releases': admin(
    'Start a release',
    'Starts a rollout of a registered bundle on a channel with a plan (preset or stages); segmentBundles gives segments a bundle of their own (personalization), notifications a message per segment sent to the push relay when a stage opens for it.',
    { body: createReleaseSchema, status: 201 },
  ),
  'GET /v1/apps/{appId}/releases': admin('List releases', "The app's releases, newest first.", { query: listReleasesQuerySchema }),
  'GET /v1/releases/{id}': admin('A release', 'Live state from the workflow: stage, phase, exposure per segment, soak, last gate report and the transition history (published projection when Temporal cannot be asked: live=false).'),
  'POST /v1/releases/{id}/force-withdraw': admin(
    'Withdraw a release nothing watches',
    "For a release whose workflow closed or never started: publishes it aborted at zero exposure (devices told rollback to the baseline). Needs role oncall or admin and a reason; audited. 409 workflow_running while the workflow runs (use rollback), release_finished once it ended.",
    { body: commandSchema },
  ),
  'GET /v1/releases/{id}/notifications': admin(
    'Segment notifications',
    "Each growth of a notified segment's exposure: the devices it newly reached, split into deliveries by quiet hours (scheduledFor), by page of the audience and, in an experiment, by arm (arm, bundleVersion: devices of arms on the baseline or stopped are not told), and per push relay the delivery's attempts and outcome. A growth whose preparation kept failing has failedAt and lastError.",
  ),
  'GET /v1/notifications/{token}/devices': device(
    'Devices of a segment notification',
    'For the push relay: pages (after, limit) through the device ids of a delivery too large for its payload. The token from the signed payload is the credential; it names one delivery and expires. 404 for an unknown or expired token.',
    { query: notificationDevicesQuerySchema },
  ),
  'GET /v1/releases/{id}/insights': admin(
    'Release insights',
    'Canary versus control figures per segment over time, adoption curves and the last gate report. The totals list the most used features; `feature` (repeated, up to 10) adds the uses of those features to every bucket.',
    { query: insightsQuerySchema },
  ),
  'GET /v1/releases/{id}/events': admin(
    'Live release changes',
    'Server-Sent Events: `hello` with the served state, then `change` on each newly published revision (fed by the NOTIFY that feeds device answers); comments keep the stream alive. 503 when the instance streams its maximum: poll instead.',
    { produces: 'text/event-stream' },
  ),
  ...commandDocs,
  'POST /v1/apps/{appId}/experiments': admin(
    'Start an experiment',
    'A release of kind experiment: two or more arms (bundles, or the baseline for the control; each with a weight and an install mode) split the devices its plan exposes, by a hash of their own. Guardrails (crash_free_sessions, update_success by the rollout gates; session_duration, feature_use of a named feature with an allowed drop) stop a harmful arm alone; the primary metric (session_duration, crash_free_sessions, update_success, adoption, feature_use) is judged with always-valid intervals. One active release per channel still holds.',
    { body: createExperimentSchema, status: 201 },
  ),
  'GET /v1/releases/{id}/experiment': admin(
    'Experiment results',
    "Per arm: sample, value, difference and relative change to the control with the always-valid interval, verdict, guardrail state, metric guardrails (session length, feature use) with their intervals; the sample-ratio check, the winner and the conclusion. live=false (no statistics) when Temporal cannot be asked.",
  ),
  'POST /v1/releases/{id}/stop-arm': admin(
    'Stop an arm',
    "Sends the arm's devices back to the baseline while the other arms go on. Needs role oncall or admin and a reason; audited. 409 for the control arm (abort instead) or an arm already stopped.",
    { body: stopArmSchema },
  ),
  'POST /v1/releases/{id}/promote-arm': admin(
    'Promote an arm',
    "Ends the experiment and ships the arm (omitted: the declared winner) to everyone: the experiment completes as the channel's release of that arm's bundle, the baseline of the next release. Needs role oncall or admin and a reason; audited.",
    { body: promoteArmSchema },
  ),
  'POST /v1/apps/{appId}/webhooks': admin('Add a webhook', 'HTTPS receiver for rollout events, signed with a secret shown once.', { body: createWebhookSchema, status: 201 }),
  'GET /v1/apps/{appId}/webhooks': admin('List webhooks', "The app's webhooks (URLs are credentials: admin and release only)."),
  'DELETE /v1/apps/{appId}/webhooks/{id}': admin('Remove a webhook', 'Stops deliveries to it.'),
  'POST /v1/apps/{appId}/signing-key/rotate': admin('Rotate the signing key', 'New answers are signed with a new key; the old one stays published for the overlap.'),
  'POST /v1/apps/{appId}/channels': admin('Create a channel', 'A channel devices can be on (public, self-assignable, platforms).', { body: createChannelSchema, status: 201 }),
  'GET /v1/apps/{appId}/channels': admin('List channels', "The app's channels."),
  'PATCH /v1/apps/{appId}/channels/{name}': admin('Change a channel', 'Public, self-assignment or platforms; refused under an active release unless forced.', { body: updateChannelSchema }),
  'PUT /v1/apps/{appId}/devices/{deviceId}/channel': admin('Put a device on a channel', 'An override for one device.', { body: deviceChannelSchema }),
  'DELETE /v1/apps/{appId}/devices/{deviceId}/channel': admin("Remove a device's channel override", 'The device follows its default channel again.'),
  'POST /v1/apps/{appId}/segments': admin('Create a segment', 'A rule that puts devices in a segment, a priority and maintenance windows.', { body: createSegmentSchema, status: 201 }),
  'GET /v1/apps/{appId}/segments': admin('List segments', "The app's segments in priority order."),
  'PUT /v1/apps/{appId}/segments/{key}': admin('Change a segment', 'Rule, priority or windows; refused under an active release unless forced.', { body: updateSegmentSchema }),
  'DELETE /v1/apps/{appId}/segments/{key}': admin('Remove a segment', 'Refused under an active release unless forced.', { query: forceQuerySchema }),
  'GET /v1/apps/{appId}/devices/{deviceId}': admin("A device's story", 'What the device runs, its segment, channel and the recent checks, installs and failures.'),
  'GET /v1/apps/{appId}/adoption': admin('Adoption', 'Devices per bundle version and segment within a window.', { query: adoptionQuerySchema }),
};
