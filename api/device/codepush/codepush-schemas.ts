import { z } from 'zod';
import { normalizeNativeVersion } from '../../../domain/native-compat';
import { text } from '../../http/text';
import { deviceIdSchema } from '../native-schemas';

/** The v0.1 (snake_case) name of each field, keyed by the legacy camelCase name. */
const WIRE_NAMES = {
  deploymentKey: 'deployment_key',
  appVersion: 'app_version',
  label: 'label',
  clientUniqueId: 'client_unique_id',
  status: 'status',
  previousLabelOrAppVersion: 'previous_label_or_app_version',
  previousDeploymentKey: 'previous_deployment_key',
} as const;

type FieldName = keyof typeof WIRE_NAMES;

const absentIfEmpty = (value: unknown) => (value === '' || value === null ? undefined : value);

/**
 * Reads each field under either spelling, as code-push-server does (snake_case first: 4.2.3 sends
 * it). Empty strings and nulls count as absent, since clients differ in how they leave a value out.
 */
function eitherSpelling(fields: readonly FieldName[]) {
  return (input: unknown): unknown => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
    const source = input as Record<string, unknown>;
    return Object.fromEntries(fields.map((field) => [field, absentIfEmpty(source[WIRE_NAMES[field]]) ?? absentIfEmpty(source[field])]));
  };
}

const deploymentKey = text().max(128);
// Anything the serving decision can read as a native version ("1" → 1.0.0, "2.0" → 2.0.0); the
// string itself is kept, because answers echo it back to the device.
const appVersion = text()
  .max(64)
  .refine((v) => normalizeNativeVersion(v) !== null, 'must be a version such as 1.2.0');
// Rampart labels are bundle versions, but a device moving over from another CodePush server still
// carries that server's labels (v1, v2, …) until its first update here.
const label = text().max(100);

export const DEPLOY_STATUSES = ['DeploymentSucceeded', 'DeploymentFailed'] as const;
export type DeployStatus = (typeof DEPLOY_STATUSES)[number];

export const updateCheckQuerySchema = z.preprocess(
  eitherSpelling(['deploymentKey', 'appVersion', 'label', 'clientUniqueId']),
  z.object({
    deploymentKey,
    appVersion,
    label: label.optional(),
    clientUniqueId: deviceIdSchema.optional(),
  }),
);

export const deployReportSchema = z.preprocess(
  eitherSpelling(['deploymentKey', 'appVersion', 'label', 'clientUniqueId', 'status', 'previousLabelOrAppVersion', 'previousDeploymentKey']),
  z
    .object({
      deploymentKey,
      appVersion,
      label: label.optional(),
      clientUniqueId: deviceIdSchema.optional(),
      status: z.enum(DEPLOY_STATUSES).optional(),
      previousLabelOrAppVersion: text().max(100).optional(),
      previousDeploymentKey: deploymentKey.optional(),
    })
    // A report without a label is a binary (store) update; one with a label must say how it went.
    .transform(({ label, status, ...report }, ctx) => {
      if (label === undefined) return { ...report, deployed: null };
      if (status === undefined) {
        ctx.addIssue({ code: 'custom', path: ['status'], message: `a report with a label needs a status (${DEPLOY_STATUSES.join(' or ')})` });
        return z.NEVER;
      }
      return { ...report, deployed: { label, status } };
    }),
);

export const downloadReportSchema = z.preprocess(
  eitherSpelling(['deploymentKey', 'label', 'clientUniqueId']),
  z.object({ deploymentKey, label, clientUniqueId: deviceIdSchema.optional() }),
);

export type UpdateCheckQuery = z.infer<typeof updateCheckQuerySchema>;
export type DeployReport = z.infer<typeof deployReportSchema>;
export type DownloadReport = z.infer<typeof downloadReportSchema>;
