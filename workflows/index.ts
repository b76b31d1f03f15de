export { rollout } from './rollout';
export { revertRelease } from './revert-release';
