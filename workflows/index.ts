export { rollout } from './rollout';
export { revertRelease } from './revert-release';
export { experiment } from './experiment';
