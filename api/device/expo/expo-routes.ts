import { Router, type Request, type Response } from 'express';
import { parseDictionary, serializeDictionary, Token } from 'structured-headers';
import { createBoundedCache, type BoundedCache } from '../../../domain/bounded-cache';
import { BUILTIN_VERSION } from '../../../domain/bundle';
import { ValidationError } from '../../../domain/errors/validation-error';
import { expoAnswerFor } from '../../../domain/expo-answer';
import { negotiateExpoResponse } from '../../../domain/expo-accept';
import { expoManifest, type ExpoDirective, type ExpoUpdate } from '../../../domain/expo-manifest';
import { runtimeAsNativeVersion } from '../../../domain/expo-runtime';
import { isWithdrawn } from '../../../domain/release';
import type { ServingRelease } from '../../../domain/serving';
import { appIdSchema } from '../../admin/schemas';
import { parse } from '../../http/parse';
import { rateLimited } from '../../http/rate-limited';
import { createAdmission } from '../admission';
import { deviceIdentity, type CheckResult, type DeviceService } from '../device-service';
import { EVENTS_BODY_LIMIT_BYTES, incomingEvents } from '../incoming-events';
import { leanJson } from '../lean-json';
import { EXPO_SIGNING_ALGORITHM, type ExpoCodeSigning, type ExpoSigner } from './expo-code-signing';
import { expoMultipart, type ExpoPart } from './expo-multipart';
import { expoEventsRequestSchema, manifestRequestSchema, nativeEventsSchema } from './expo-schemas';
import { expoReissueId } from './expo-update-ids';
import type { ExpoUpdatesSource } from './expo-updates-source';

/** The request header an app may set to give Rampart a stable device id (e.g. `Updates.setUpdateRequestHeadersOverride`, SDK 54). */
export const EXPO_DEVICE_ID_HEADER = 'expo-device-id';
/** Or the extra param (`Updates.setExtraParamAsync`), which expo-updates sends in `expo-extra-params`. */
export const EXPO_DEVICE_ID_PARAM = 'device-id';
export const EXPO_MANIFEST_PATH = '/v1/apps/:appId/expo/manifest';
export const EXPO_EVENTS_PATH = '/v1/apps/:appId/expo/events';

const RENDERED_CACHE_LIMIT = 2_000;
const EXPECT_SIGNATURE_SHAPE = `an Expo SFV dictionary such as: sig, keyid="main", alg="${EXPO_SIGNING_ALGORITHM}"`;

function error(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/**
 * `expo-expect-signature`: whether the client asks for signatures. Its `keyid` is not checked: the
 * app has one key, and the answer names it.
 */
function expectsSignature(value: string | undefined): boolean {
  if (value === undefined) return false;
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(value);
  } catch {
    throw new ValidationError(`expo-expect-signature must be ${EXPECT_SIGNATURE_SHAPE}`, [{ path: 'expo-expect-signature', message: `must be ${EXPECT_SIGNATURE_SHAPE}` }]);
  }
  const alg: unknown = dictionary.get('alg')?.[0];
  // A string or, unquoted, a token: either spells the algorithm.
  const algName = typeof alg === 'string' ? alg : alg instanceof Token ? alg.toString() : null;
  if (alg !== undefined && algName !== EXPO_SIGNING_ALGORITHM) {
    const message = `alg must be "${EXPO_SIGNING_ALGORITHM}", the only algorithm Expo Updates code signing defines`;
    throw new ValidationError(`expo-expect-signature: ${message}`, [{ path: 'expo-expect-signature.alg', message }]);
  }
  return true;
}

function signatureHeader(signer: ExpoSigner, body: string): string {
  return serializeDictionary({ sig: signer.sign(Buffer.from(body)), keyid: signer.keyId, alg: EXPO_SIGNING_ALGORITHM });
}

/**
 * When a rollback happened, as the client must see it: later than the withdrawn update (expo-updates
 * acts only on a newer update or directive). The release's final publication for a withdrawn
 * release; for a device leaving an older withdrawn bundle, the current release's start.
 */
function rollbackTime(release: ServingRelease): string {
  return new Date(isWithdrawn(release.status) ? release.publishedAt : release.createdAt).toISOString();
}

interface ManifestRequest {
  appId: string;
  platform: ExpoUpdate['platform'];
  runtimeVersion: string;
  /** Empty when the app sends none. */
  deviceId: string;
  channel: string | undefined;
  currentUpdateId: string | undefined;
  embeddedUpdateId: string | undefined;
  expectsSignature: boolean;
}

/** The device id an app put into its extra params, when it did (an Expo SFV dictionary of strings). */
function deviceIdParam(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const param: unknown = parseDictionary(value).get(EXPO_DEVICE_ID_PARAM)?.[0];
    return typeof param === 'string' && param !== '' ? param : undefined;
  } catch {
    const message = 'must be an Expo SFV dictionary such as device-id="…", as Updates.setExtraParamAsync writes it';
    throw new ValidationError(`expo-extra-params ${message}`, [{ path: 'expo-extra-params', message }]);
  }
}

function readManifestRequest(req: Request): ManifestRequest {
  const appId = parse(appIdSchema, req.params.appId, 'app id');
  const headers = parse(
    manifestRequestSchema,
    {
      'expo-platform': req.get('expo-platform'),
      'expo-runtime-version': req.get('expo-runtime-version'),
      [EXPO_DEVICE_ID_HEADER]: req.get(EXPO_DEVICE_ID_HEADER) || deviceIdParam(req.get('expo-extra-params')),
      'expo-channel-name': req.get('expo-channel-name') || undefined,
      'expo-current-update-id': req.get('expo-current-update-id') || undefined,
      'expo-embedded-update-id': req.get('expo-embedded-update-id') || undefined,
    },
    'request headers',
  );
  return {
    appId,
    platform: headers['expo-platform'],
    runtimeVersion: headers['expo-runtime-version'],
    deviceId: headers[EXPO_DEVICE_ID_HEADER] ?? '',
    channel: headers['expo-channel-name'],
    currentUpdateId: headers['expo-current-update-id'],
    embeddedUpdateId: headers['expo-embedded-update-id'],
    expectsSignature: expectsSignature(req.get('expo-expect-signature')),
  };
}

/**
 * When a manifest must be re-issued, or null for the bundle's own. A rollback re-issues at the
 * rollback. An update older than what the device runs (a bundle registered before the rollback that
 * re-issued the device's update) is re-issued as made when its release started: expo-updates would
 * otherwise keep what it runs.
 */
function reissueTime(update: ExpoUpdate, release: ServingRelease | undefined, rollback: boolean, runningSince: string | null): string | null {
  if (!release) return null;
  if (rollback) return rollbackTime(release);
  const startedAt = new Date(release.createdAt).toISOString();
  return runningSince !== null && update.createdAt <= runningSince && startedAt > runningSince ? startedAt : null;
}

export interface ExpoRoutesDeps {
  devices: DeviceService;
  expoUpdates: ExpoUpdatesSource;
  expoSigning: ExpoCodeSigning;
}

/**
 * Expo Updates v1 (`expo-updates`): the manifest endpoint answers from the same assignment as the
 * other protocols, with the runtime version as the native version; events name the update they
 * happened on.
 */
export function createExpoRoutes(deps: ExpoRoutesDeps): Router {
  const router = Router();
  const admission = createAdmission(deps.devices, {
    tooManyRequests: rateLimited,
    unknownApp: (res, appId) => error(res, 404, 'not_found', `no app ${appId}`),
  });

  /** The bundle an update id stands for (`builtin` for the embedded update) and when its manifest says it was made, when known. */
  const runningUpdate = async (appId: string, current: string | undefined, embedded: string | undefined): Promise<{ version: string; createdAt: string | null }> => {
    if (current === undefined || current === embedded) return { version: BUILTIN_VERSION, createdAt: null };
    return (await deps.expoUpdates.issueOf(appId, current)) ?? { version: `expo-update:${current}`, createdAt: null };
  };

  // A manifest's bytes never change for its id, nor a directive's for its text: each is written and
  // signed (an RSA signature costs about a millisecond) once, not per device check.
  const manifestBodies = createBoundedCache<string>(RENDERED_CACHE_LIMIT);
  const signatures = new WeakMap<ExpoSigner, BoundedCache<string>>();
  const signed = (signer: ExpoSigner, identity: string, body: string): string => {
    let cache = signatures.get(signer);
    if (!cache) signatures.set(signer, (cache = createBoundedCache<string>(RENDERED_CACHE_LIMIT)));
    return cache.get(identity, () => signatureHeader(signer, body));
  };

  /** The manifest and extensions parts; `reissueAt` re-issues the bundle's manifest as made at that time. */
  const manifestParts = async (update: ExpoUpdate, release: ServingRelease | undefined, reissueAt: string | null, signer: ExpoSigner | null): Promise<ExpoPart[]> => {
    let issue = { id: update.updateId, createdAt: update.createdAt };
    if (reissueAt !== null && release) {
      const createdAt = reissueAt;
      issue = { id: expoReissueId(update.appId, update.version, update.platform, release.releaseId, createdAt), createdAt };
      await deps.expoUpdates.recordReissue({ updateId: issue.id, createdAt: new Date(issue.createdAt), appId: update.appId, version: update.version, platform: update.platform, releaseId: release.releaseId });
    }
    const body = manifestBodies.get(`${update.appId}\u0000${issue.id}`, () => JSON.stringify(expoManifest(update, issue)));
    return [
      { name: 'manifest', body, signature: signer && signed(signer, `${update.appId}\u0000${issue.id}`, body) },
      { name: 'extensions', body: JSON.stringify({ assetRequestHeaders: update.assetRequestHeaders }), signature: null },
    ];
  };

  const directivePart = (directive: ExpoDirective, signer: ExpoSigner | null): ExpoPart => {
    const body = JSON.stringify(directive);
    return { name: 'directive', body, signature: signer && signed(signer, body, body) };
  };

  /** The parts answering a device, from the assignment's decision. */
  const answerParts = async (result: CheckResult, request: ManifestRequest, runningSince: string | null, signer: ExpoSigner | null): Promise<ExpoPart[]> => {
    const release = result.channel === null ? undefined : result.app.serving.get(result.channel)?.current;
    const answer = expoAnswerFor(result.decision);
    const rollBackToEmbedded = (at: ServingRelease) => [directivePart({ type: 'rollBackToEmbedded', parameters: { commitTime: rollbackTime(at) } }, signer)];
    if (answer.kind === 'manifest') {
      const update = await deps.expoUpdates.update(request.appId, answer.version, request.platform);
      // A bundle without an Expo manifest for this platform and runtime (one registered for another
      // protocol) is never sent; a rollback to one sends the device back to its embedded update.
      if (update && update.runtimeVersion === request.runtimeVersion) return manifestParts(update, release, reissueTime(update, release, answer.reissued, runningSince), signer);
      if (answer.reissued && release) return rollBackToEmbedded(release);
    } else if (answer.kind === 'rollBackToEmbedded' && release) {
      return rollBackToEmbedded(release);
    }
    return [directivePart({ type: 'noUpdateAvailable' }, signer)];
  };

  const manifest = async (req: Request, res: Response) => {
    // Sent on every answer, errors included: they tell the client which protocol it is talking to.
    res.set({ 'expo-protocol-version': '1', 'expo-sfv-version': '0', 'cache-control': 'private, max-age=0' });
    const protocolVersion = req.get('expo-protocol-version');
    if (protocolVersion !== '1') {
      const said = protocolVersion === undefined ? 'no expo-protocol-version header was sent' : `expo-protocol-version ${protocolVersion} is not supported`;
      error(res, 406, 'unsupported_protocol_version', `${said}; this server speaks Expo Updates protocol version 1`);
      return;
    }
    const format = negotiateExpoResponse(req.get('accept'));
    if (format === null) {
      error(res, 406, 'not_acceptable', 'accept must allow multipart/mixed, application/expo+json or application/json');
      return;
    }
    const request = readManifestRequest(req);
    // Without an id the client address stands in for the rate limit; the space keeps it apart from device ids.
    const app = admission(res, request.appId, request.deviceId || `anonymous ${req.ip ?? ''}`);
    if (!app) return;
    const signer = request.expectsSignature ? await deps.expoSigning.signer(request.appId) : null;
    if (request.expectsSignature && signer === null) {
      error(res, 409, 'code_signing_not_configured', `the app has no code-signing key yet: download its certificate (GET /v1/apps/${request.appId}/expo/certificate) and embed it in the app`);
      return;
    }
    const running = await runningUpdate(request.appId, request.currentUpdateId, request.embeddedUpdateId);
    const result = deps.devices.check(
      app,
      deviceIdentity({
        appId: request.appId,
        // Empty: DeviceService never puts a device without an id into a canary.
        deviceId: request.deviceId,
        platform: request.platform,
        nativeVersion: runtimeAsNativeVersion(request.runtimeVersion),
        bundleVersion: running.version,
        requestedChannel: request.channel,
      }),
      'expo',
    );
    const parts = await answerParts(result, request, running.createdAt, signer);

    if (format === 'multipart/mixed') {
      const { contentType, body } = expoMultipart(parts);
      res.type(contentType).send(body);
      return;
    }
    // The JSON structures carry a manifest only (spec: 406 when the answer is a directive).
    const manifestPart = parts.find((p) => p.name === 'manifest');
    if (!manifestPart) {
      error(res, 406, 'directive_needs_multipart', 'the answer is a directive (no update, or a rollback to the embedded update), which only multipart/mixed can carry');
      return;
    }
    if (manifestPart.signature !== null) res.set('expo-signature', manifestPart.signature);
    res.type(format).send(Buffer.from(manifestPart.body));
  };

  router.get(EXPO_MANIFEST_PATH, manifest);
  router.post(EXPO_MANIFEST_PATH, manifest);

  router.post(EXPO_EVENTS_PATH, leanJson(EVENTS_BODY_LIMIT_BYTES), async (req, res) => {
    const appId = parse(appIdSchema, req.params.appId, 'app id');
    const body = parse(expoEventsRequestSchema, req.body);
    const app = admission(res, appId, body.deviceId, body.events.length);
    if (!app) return;
    const withVersions = await Promise.all(
      body.events.map(async ({ updateId, ...event }) => ({ ...event, bundleVersion: (await runningUpdate(appId, updateId ?? undefined, undefined)).version })),
    );
    const events = parse(nativeEventsSchema, withVersions);
    await deps.devices.report(
      app,
      deviceIdentity({
        appId,
        deviceId: body.deviceId,
        platform: body.platform,
        nativeVersion: runtimeAsNativeVersion(body.runtimeVersion),
        bundleVersion: events.at(-1)!.bundleVersion,
        requestedChannel: body.channel,
        attributes: body.attributes,
      }),
      incomingEvents(events),
    );
    res.status(202).json({ accepted: events.length });
  });

  return router;
}
