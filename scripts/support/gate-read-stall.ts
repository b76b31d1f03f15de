import type { Activities } from '../../activities/create-activities';

/**
 * Tests and benchmarks: holds gate reads (the `evaluateGates` activity) while armed, as a slow or
 * locked telemetry query would, until released. Reads started while disarmed run as usual.
 */
export interface GateReadStall {
  wrap(activities: Activities): Activities;
  /** Reads started from now on wait; `holdMs` (optional) releases each on its own after that long. */
  arm(holdMs?: number): void;
  /** Lets every held read go on and stops holding new ones. */
  release(): void;
  /** Reads waiting right now. */
  held(): number;
  /** Held reads that have returned to the workflow since the stall was created. */
  returned(): number;
}

export function createGateReadStall(): GateReadStall {
  let armed = false;
  let holdMs: number | undefined;
  let waiting: Array<() => void> = [];
  let returned = 0;
  return {
    wrap(activities) {
      return {
        ...activities,
        async evaluateGates(input) {
          if (!armed) return activities.evaluateGates(input);
          await new Promise<void>((resolve) => {
            const done = () => {
              waiting = waiting.filter((w) => w !== done);
              resolve();
            };
            waiting.push(done);
            if (holdMs !== undefined) setTimeout(done, holdMs).unref();
          });
          try {
            return await activities.evaluateGates(input);
          } finally {
            returned++;
          }
        },
      };
    },
    arm(ms) {
      armed = true;
      holdMs = ms;
    },
    release() {
      armed = false;
      for (const done of [...waiting]) done();
    },
    held: () => waiting.length,
    returned: () => returned,
  };
}
