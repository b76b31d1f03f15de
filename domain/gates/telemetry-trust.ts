import type { GateFinding, GateWindow, SetAsideTotals, TrustEvidence, WindowTrust } from './gate-types';

/**
 * New ids in a window are a burst from this many on, when they are also more than this share of the
 * devices seen before the release: new installs are a trickle beside an established fleet.
 */
export const TRUST_BURST_MIN_DEVICES = 20;
export const TRUST_BURST_SHARE = 0.1;
/**
 * Newcomers (served a window ago) count, but not when their failures are unusual at the veterans'
 * rate at this looser level: that window is set aside without a pause, so one forged failure an hour
 * from ids that waited a window cannot add up to a rollback. The cost is a window of evidence.
 */
export const TRUST_SET_ASIDE_P_VALUE = 0.05;
/**
 * Failures among new ids look concentrated when so many failing of so many new ids would happen less
 * than `TRUST_P_VALUE` of the time at the failure rate of the devices seen before the release (at
 * least `TRUST_RATE_FLOOR`). A forger whose every id fails is caught at 2 ids; honest new installs,
 * failing like the rest, are not.
 */
export const TRUST_P_VALUE = 0.001;
export const TRUST_RATE_FLOOR = 0.01;
const TRUST_MIN_FAILING = 2;

const NO_SET_ASIDE: SetAsideTotals = { devices: 0, failing: 0, distrustedWindows: 0 };

export interface TrustJudgement {
  /** Findings that pause the release (never roll back, never advance). */
  findings: GateFinding[];
  /** The window's new ids look forged (or newcomers fail unusually): fold none of it, so they can neither roll back nor dilute. */
  distrusted: boolean;
  evidence: TrustEvidence | undefined;
}

/**
 * The trust model (README, "Trust model for telemetry"). Established devices already are the only
 * ones counted; this judges the ids that are not. A burst of new ids, or failures concentrated in
 * new ids, is a data-quality finding that pauses. Judged only against devices that were there
 * before the release: a channel without any (a new app) has no fleet to compare a burst with, and
 * there its new ids are set aside only until they have been served for a window.
 */
export function judgeTrust(window: GateWindow | null, totals: SetAsideTotals | undefined, dryRun: boolean): TrustJudgement {
  const before = totals ?? NO_SET_ASIDE;
  const trusts = Object.entries(window?.segments ?? {}).flatMap(([segment, w]) => (w.trust === undefined ? [] : [[segment, w.trust] as const]));
  if (window === null || trusts.length === 0) return { findings: [], distrusted: false, evidence: undefined };
  const findings = trusts.flatMap(([segment, trust]) => segmentFindings(segment, trust, dryRun));
  const distrusted = findings.some((f) => f.verdict === 'pause' || f.verdict === 'continue') && !dryRun;
  const after: SetAsideTotals = {
    devices: before.devices + sum(trusts, (t) => t.freshDevices + t.unservedDevices + (distrusted ? t.newcomerDevices + t.veteranDevices : 0)),
    failing: before.failing + sum(trusts, (t) => t.setAsideFailing + (distrusted ? t.newcomerFailing + t.veteranFailing : 0)),
    distrustedWindows: before.distrustedWindows + (distrusted ? 1 : 0),
  };
  return { findings, distrusted, evidence: { window: Object.fromEntries(trusts), distrusted, totals: after } };
}

function segmentFindings(segment: string, t: WindowTrust, dryRun: boolean): GateFinding[] {
  if (t.veteranDevices === 0) return [];
  const finding = (message: string): GateFinding => ({ gate: 'data_quality', segment, verdict: 'pause', dryRun, message });
  const newIds = t.newcomerDevices + t.freshDevices + t.unservedDevices;
  const newFailing = t.newcomerFailing + t.setAsideFailing;
  const findings: GateFinding[] = [];
  // Veterans of both slices, failing canaries only: half of them is the canary's share.
  const reference = Math.max(TRUST_RATE_FLOOR, t.veteranFailing / Math.max(1, t.veteranDevices / 2));
  const concentrated = newFailing >= TRUST_MIN_FAILING && binomialTail(newFailing, Math.max(newIds, newFailing), reference) < TRUST_P_VALUE;
  if (concentrated) {
    findings.push(
      finding(
        `failures concentrated in new device ids on ${segment}: ${newFailing} failing canaries among ids first seen after the release started ` +
          `of ${newIds}, vs ${t.veteranFailing} among ${t.veteranDevices} devices seen before → window set aside, pause (forged telemetry never rolls back)`,
      ),
    );
  }
  if (!concentrated && t.newcomerFailing > 0 && binomialTail(t.newcomerFailing, Math.max(t.newcomerDevices, t.newcomerFailing), reference) < TRUST_SET_ASIDE_P_VALUE) {
    findings.push({
      ...finding(
        `${t.newcomerFailing} failing of ${t.newcomerDevices} newcomers on ${segment} (first seen after the release started) is unusual ` +
          `at the ${t.veteranDevices} veterans' rate → window set aside, keep baking`,
      ),
      verdict: 'continue',
    });
  }
  if (newIds >= TRUST_BURST_MIN_DEVICES && newIds > TRUST_BURST_SHARE * t.veteranDevices) {
    findings.push(
      finding(
        `burst of new device ids on ${segment}: ${newIds} ids first seen after the release started (${t.unservedDevices} never served a check) ` +
          `vs ${t.veteranDevices} seen before (more than ${TRUST_BURST_SHARE * 100} %) → window set aside, pause (forged telemetry never advances)`,
      ),
    );
  }
  return findings;
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed in log space from k up (n is at most a window's devices). */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let logTerm = k * logP + (n - k) * logQ;
  for (let i = 0; i < k; i++) logTerm += Math.log((n - i) / (i + 1));
  let total = 0;
  for (let i = k; i <= n; i++) {
    const term = Math.exp(logTerm);
    total += term;
    if (term < total * 1e-12) break;
    logTerm += Math.log((n - i) / (i + 1)) + logP - logQ;
  }
  return Math.min(1, total);
}

function sum(trusts: ReadonlyArray<readonly [string, WindowTrust]>, of: (t: WindowTrust) => number): number {
  return trusts.reduce((total, [, t]) => total + of(t), 0);
}
