/** Defaults for the optional fields of a GateSpec (gates.md §4.3–4.8). */
export const RATIO_GATE_DEFAULTS = { r0: 1, minEvents: 3 } as const;

/** Android vitals' user-perceived crash-rate threshold, over at least 200 device-windows. */
export const CRASH_RATE_GATE_DEFAULTS = { maxRate: 0.0109, minDevices: 200 } as const;

/** Flagger-like counting: three failed windows of at least 100 canary devices. */
export const THRESHOLD_GATE_DEFAULTS = { minDevices: 100, failureLimit: 3 } as const;
