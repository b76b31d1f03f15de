import { z } from 'zod';
import type { RouteEntry } from './list-routes';
import { ROUTE_DOCS, type RouteDoc } from './route-docs';

/** The one error shape every route answers with (device protocols that mimic others aside). */
export const errorResponseSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe('stable machine-readable code, e.g. validation_failed, command_refused'),
      message: z.string().describe('what went wrong and what to do about it'),
      details: z.record(z.string(), z.unknown()).optional().describe('e.g. problems: [{path, message}] for invalid input'),
    }),
  });

type JsonSchema = Record<string, unknown>;

// Transforms and refinements have no JSON Schema: the document describes what a client sends.
const toSchema = (schema: z.ZodType): JsonSchema => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

const ERROR_STATUSES: Record<RouteDoc['audience'], string[]> = {
  admin: ['400', '401', '403', '404', '409', '503'],
  device: ['400', '404', '429', '503'],
  ops: ['503'],
  dashboard: ['503'],
};

const errorRef = { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };

function queryParameters(schema: z.ZodType) {
  const json = toSchema(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({ name, in: 'query', required: required.has(name), schema: property }));
}

function operation(route: RouteEntry, doc: RouteDoc) {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  const success = doc.produces
    ? { description: doc.summary, content: { [doc.produces]: { schema: { type: 'string' } } } }
    : { description: doc.summary, content: { 'application/json': { schema: {} } } };
  return {
    summary: doc.summary,
    description: doc.description,
    tags: [doc.audience],
    ...(doc.audience === 'admin' ? { security: [{ apiKey: [] }] } : { security: [] }),
    parameters: [...pathParameters, ...(doc.query ? queryParameters(doc.query) : [])],
    ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(doc.body) } } } } : {}),
    responses: {
      [String(doc.status ?? 200)]: success,
      ...Object.fromEntries(ERROR_STATUSES[doc.audience].map((status) => [status, errorRef])),
    },
  };
}

/** OpenAPI 3.1 for the routes given (those of the running app); routes without a doc are left out. */
export function openApiDocument(routes: RouteEntry[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const doc = ROUTE_DOCS[`${route.method} ${route.path}`];
    if (!doc) continue;
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, doc);
  }
  const { $schema: _dialect, ...errorSchema } = toSchema(errorResponseSchema);
  return {
    openapi: '3.1.0',
    info: { title: 'Rampart', version, description: 'Guarded over-the-air rollouts of mobile web bundles: admin, device and ops routes.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: Authorization: Bearer <key>' } },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}
