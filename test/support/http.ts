export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client for tests: the real HTTP stack, no supertest shortcuts. */
export function createHttp(baseUrl: string, apiKey?: string) {
  const call = async <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // non-JSON bodies (metrics) stay text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
  /** A streaming GET (Server-Sent Events): the status and, for a refusal, its JSON; the stream is let go at once. */
  const stream = async <T = any>(path: string): Promise<JsonResponse<T>> => {
    const res = await fetch(`${baseUrl}${path}`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
    if (!res.ok) return { status: res.status, body: (await res.json()) as T, headers: res.headers };
    await res.body?.cancel();
    return { status: res.status, body: undefined as T, headers: res.headers };
  };
  return {
    stream,
    get: <T = any>(path: string, headers?: Record<string, string>) => call<T>('GET', path, undefined, headers),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers),
    put: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('PUT', path, body, headers),
    patch: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('PATCH', path, body, headers),
    delete: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('DELETE', path, body, headers),
  };
}

export type Http = ReturnType<typeof createHttp>;
