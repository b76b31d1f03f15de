/** One column of a batch of rows, as `unnest` takes it: one array parameter per column. */
export const col = <T, K extends keyof T>(rows: T[], key: K): Array<T[K]> => rows.map((r) => r[key]);
