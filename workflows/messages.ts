import { defineQuery } from '@temporalio/workflow';
import type { ReleaseView } from '../domain/rollout-view';

export const stateQuery = defineQuery<ReleaseView>('state');
