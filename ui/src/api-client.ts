/** What went wrong talking to the API, phrased for someone at 3 a.m. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The key is unknown, revoked or expired: only signing in again helps. */
  get keyRefused(): boolean {
    return this.status === 401;
  }

  /** The API (or what it depends on) cannot answer now; retrying later may help. */
  get stackDown(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

const UNREACHABLE = 'The Rampart API cannot be reached: the stack may be down or restarting. The page retries by itself.';

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** The raw response of a streaming GET (Server-Sent Events), with the key. */
  stream(path: string, signal: AbortSignal): Promise<Response>;
}

async function failure(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  const code = body?.error?.code ?? `http_${res.status}`;
  if (res.status === 401) return new ApiError(401, code, `Your API key was refused (${body?.error?.message ?? 'unknown, revoked or expired'}). Sign in again with a valid key.`);
  if (res.status >= 502 && !body?.error) return new ApiError(res.status, code, UNREACHABLE);
  return new ApiError(res.status, code, body?.error?.message ?? `the API answered ${res.status}`);
}

/** The admin API with the signed-in key as the bearer token; every page goes through here. */
export function createApiClient(key: string, onKeyRefused: (error: ApiError) => void): ApiClient {
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(0, 'unreachable', UNREACHABLE);
    }
    if (res.ok) return res;
    const error = await failure(res);
    if (error.keyRefused) onKeyRefused(error);
    throw error;
  };
  return {
    async get<T>(path: string) {
      return (await (await call(path)).json()) as T;
    },
    async post<T>(path: string, body: unknown) {
      return (await (await call(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })).json()) as T;
    },
    stream: (path, signal) => call(path, { signal, headers: { accept: 'text/event-stream' } }),
  };
}
