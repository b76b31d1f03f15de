import type { Express } from 'express';

export interface RouteEntry {
  method: string;
  /** OpenAPI form: `{id}` for `:id`, `{path}` for a `*path` wildcard. */
  path: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

const openApiPath = (path: string) => path.replace(/[:*](\w+)/g, '{$1}');

/** Every method and path the app answers, read from its router, so a new route is never missed. */
export function listRoutes(app: Express): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
        for (const path of paths) for (const method of methods) routes.push({ method: method.toUpperCase(), path: openApiPath(path) });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  const seen = new Set<string>();
  return routes.filter((r) => {
    const key = `${r.method} ${r.path}`;
    return !seen.has(key) && seen.add(key);
  });
}
