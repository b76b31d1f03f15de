import { BUILTIN_VERSION } from '../../../domain/bundle';
import type { EventType } from '../../../domain/telemetry';
import type { IncomingEvent } from '../../telemetry/telemetry-service';
import type { DeployReport, DeployStatus, DownloadReport } from './codepush-schemas';

// DeploymentFailed: the app restarted into the update without calling notifyAppReady and the
// client went back to its previous package, which is what the gates count as a boot failure.
const DEPLOY_EVENT_TYPES: Record<DeployStatus, EventType> = {
  DeploymentSucceeded: 'install_ok',
  DeploymentFailed: 'boot_failed',
};

export function deployEvent(report: DeployReport, at: Date): IncomingEvent {
  const previous = {
    ...(report.previousLabelOrAppVersion === undefined ? {} : { previous_label_or_app_version: report.previousLabelOrAppVersion }),
    ...(report.previousDeploymentKey === undefined ? {} : { previous_deployment_key: report.previousDeploymentKey }),
  };
  const details = Object.keys(previous).length > 0 ? previous : null;
  if (report.deployed === null) return { type: 'codepush:binary_deploy', at, bundleVersion: BUILTIN_VERSION, details };
  return { type: DEPLOY_EVENT_TYPES[report.deployed.status], at, bundleVersion: report.deployed.label, details };
}

/**
 * Kept for analytics: a download without a later deploy report is a package fetched but never
 * installed. It stays out of the gates, which must only count devices that run the bundle.
 */
export function downloadEvent(report: DownloadReport, at: Date): IncomingEvent {
  return { type: 'codepush:download', at, bundleVersion: report.label, details: null, countsForGates: false };
}
