import { isGrpcServiceError, WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';

/** gRPC status codes (fixed by the gRPC specification); @grpc/grpc-js is only a transitive dependency. */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** Close statuses after which a workflow publishes nothing any more (continue-as-new hands over to a next run). */
const CLOSED: readonly WorkflowExecutionStatusName[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'];

/** Where a release's workflow stands: `missing` means Temporal has never heard of it (the start never happened). */
export type WorkflowRunState = { kind: 'open'; status: WorkflowExecutionStatusName } | { kind: 'closed'; status: WorkflowExecutionStatusName } | { kind: 'missing' };

/** Describes the latest run of a workflow id; throws when Temporal does not answer within `timeoutMs`. */
export async function workflowRunState(client: Client, workflowId: string, timeoutMs: number): Promise<WorkflowRunState> {
  try {
    const { status } = await client.withDeadline(Date.now() + timeoutMs, () => client.workflow.getHandle(workflowId).describe());
    return CLOSED.includes(status.name) ? { kind: 'closed', status: status.name } : { kind: 'open', status: status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { kind: 'missing' };
    throw err;
  }
}

/** The gRPC status of a failed Temporal call, looking through the SDK's wrapping errors; null for anything else. */
export function grpcStatusOf(err: unknown): number | null {
  for (let current: unknown = err, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (isGrpcServiceError(current)) return current.code;
    current = current instanceof Error ? current.cause : undefined;
  }
  return null;
}

/** Temporal (its frontend) cannot be reached, or did not answer in time: a retry later may succeed. */
export function isTemporalUnreachable(err: unknown): boolean {
  const code = grpcStatusOf(err);
  return code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
}

export function isGrpcDeadline(err: unknown): boolean {
  return grpcStatusOf(err) === GRPC_DEADLINE_EXCEEDED;
}
