/**
 * The must-catch rate ratio of a stage's acceptance test (gates.md §4.8): small stages only need to
 * rule out gross regressions before widening, large ones must rule out subtle ones.
 */
export function defaultRDetect(exposureBps: number, isBetaStage: boolean): number {
  if (isBetaStage || exposureBps <= 100) return 3;
  if (exposureBps <= 500) return 2;
  if (exposureBps <= 2000) return 1.5;
  return 1.3;
}
