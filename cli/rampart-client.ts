type Answer = Record<string, unknown>;

/**
 * The admin API as the CLI uses it: plain HTTP with a bearer key, errors carried as thrown messages.
 * The type parameter only names the answer's shape for the caller; nothing checks it.
 */
export interface RampartClient {
  get<T = Answer>(path: string): Promise<T>;
  post<T = Answer>(path: string, body: unknown): Promise<T>;
  put<T = Answer>(path: string, body: unknown): Promise<T>;
  patch<T = Answer>(path: string, body: unknown): Promise<T>;
  /** Deletions answer 204 without a body. */
  delete(path: string): Promise<void>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function createRampartClient(baseUrl: string, apiKey: string): RampartClient {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `cannot reach Rampart at ${baseUrl}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    let json: Answer;
    try {
      json = (text ? JSON.parse(text) : {}) as Answer;
    } catch {
      throw new ApiError(res.status, 'not_json', `Rampart at ${baseUrl} answered HTTP ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const error = (json.error ?? {}) as { code?: string; message?: string };
      throw new ApiError(res.status, error.code ?? 'error', error.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    put: (path, body) => call('PUT', path, body),
    patch: (path, body) => call('PATCH', path, body),
    delete: async (path) => {
      await call('DELETE', path);
    },
  };
}
