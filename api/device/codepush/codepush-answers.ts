import type { BundleRef } from '../../../domain/bundle';
import type { Decision } from '../../../domain/serving';

/** An update check answer under code-push-server's own names (the legacy `/updateCheck` spelling). */
export interface UpdateInfo {
  downloadURL: string;
  description: string;
  isAvailable: boolean;
  isMandatory: boolean;
  appVersion: string;
  targetBinaryRange: string;
  packageHash: string;
  label: string;
  packageSize: number;
  updateAppVersion: boolean;
  shouldRunBinaryVersion: boolean;
}

function upToDate(deviceAppVersion: string): UpdateInfo {
  return {
    downloadURL: '',
    description: '',
    isAvailable: false,
    isMandatory: false,
    appVersion: deviceAppVersion,
    targetBinaryRange: deviceAppVersion,
    packageHash: '',
    label: '',
    packageSize: 0,
    updateAppVersion: false,
    shouldRunBinaryVersion: false,
  };
}

// The device's own version, not the bundle's range: the SDK sends `target_binary_range` back as
// `app_version` in its reports, and old plugins only understand plain versions.
function offer(bundle: BundleRef, deviceAppVersion: string, mandatory: boolean): UpdateInfo {
  return {
    ...upToDate(deviceAppVersion),
    downloadURL: bundle.url,
    // Bundle notes are not part of what the serving snapshot holds.
    description: '',
    isAvailable: true,
    isMandatory: mandatory,
    packageHash: bundle.sha256,
    label: bundle.version,
    packageSize: bundle.size,
  };
}

/** DESIGN §7 step 4 in CodePush terms: the label is the bundle version. */
export function updateInfoFor(decision: Decision, deviceAppVersion: string): UpdateInfo {
  switch (decision.action) {
    case 'update':
      // A store update is only announced when there is nothing to install: the SDK reads
      // `update_app_version` first and would drop the package.
      // CodePush cannot name an install mode; `is_mandatory` makes the SDK use its mandatoryInstallMode
      // (IMMEDIATE by default), which is how an experiment arm's "immediate" is expressed.
      return offer(decision.bundle, deviceAppVersion, decision.experimentArm?.installMode === 'immediate');
    case 'rollback':
      // Mandatory, so the app installs it at once instead of at its next convenient restart.
      return decision.bundle ? offer(decision.bundle, deviceAppVersion, true) : { ...upToDate(deviceAppVersion), shouldRunBinaryVersion: true };
    case 'none':
      return decision.nativeUpdate === null
        ? upToDate(deviceAppVersion)
        : {
            ...upToDate(deviceAppVersion),
            updateAppVersion: true,
            appVersion: decision.nativeUpdate.nativeRange,
            targetBinaryRange: decision.nativeUpdate.nativeRange,
          };
  }
}

/** The v0.1 spelling the 4.2.3 SDK reads (code-push-server's `convertObjectToSnakeCase`). */
export function snakeCaseUpdateInfo(info: UpdateInfo) {
  return {
    download_url: info.downloadURL,
    description: info.description,
    is_available: info.isAvailable,
    is_mandatory: info.isMandatory,
    app_version: info.appVersion,
    target_binary_range: info.targetBinaryRange,
    package_hash: info.packageHash,
    label: info.label,
    package_size: info.packageSize,
    update_app_version: info.updateAppVersion,
    should_run_binary_version: info.shouldRunBinaryVersion,
  };
}
