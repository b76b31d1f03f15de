/** The admin API as the CLI uses it: plain HTTP with a bearer key, errors carried as thrown messages. */
export interface RampartClient {
  get(path: string): Promise<Record<string, unknown>>;
  post(path: string, body: unknown): Promise<Record<string, unknown>>;
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
  const call = async (method: string, path: string, body?: unknown) => {
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
    let json: Record<string, unknown>;
    try {
      json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    } catch {
      throw new ApiError(res.status, 'not_json', `Rampart at ${baseUrl} answered HTTP ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const error = (json.error ?? {}) as { code?: string; message?: string };
      throw new ApiError(res.status, error.code ?? 'error', error.message ?? `HTTP ${res.status}`);
    }
    return json;
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
  };
}
