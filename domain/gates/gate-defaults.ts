/** Defaults for the optional fields of a GateSpec (gates.md §4.3–4.8). */
export const RATIO_GATE_DEFAULTS = { r0: 1, minEvents: 3 } as const;

/**
 * Device-windows, canary and control together, after which a metric neither cohort has reported
 * counts as "not reported" (an app that never sends it) and stops holding a stage: with no event in
 * 3000 device-windows its rate is below 0.1 % per device-window with 95 % confidence (rule of three),
 * and a comparison with no events can never accept.
 */
export const UNREPORTED_AFTER_DEVICE_WINDOWS = 3000;

/** Android vitals' user-perceived crash-rate threshold, over at least 200 device-windows. */
export const CRASH_RATE_GATE_DEFAULTS = { maxRate: 0.0109, minDevices: 200 } as const;

/** Flagger-like counting: three failed windows of at least 100 canary devices. */
export const THRESHOLD_GATE_DEFAULTS = { minDevices: 100, failureLimit: 3 } as const;
