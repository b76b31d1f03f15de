/**
 * Writes rows in one go; when the write refuses their data (not when the database is away), halves
 * the batch until each refused row stands alone, so the good rows are written and only the bad are
 * returned. Costs about 2·log2(n) extra writes per bad row instead of one write per row.
 */
export async function writeIsolatingRefused<T>(rows: T[], write: (rows: T[]) => Promise<void>, isRefused: (err: unknown) => boolean): Promise<T[]> {
  if (rows.length === 0) return [];
  try {
    await write(rows);
    return [];
  } catch (err) {
    if (!isRefused(err)) throw err;
    if (rows.length === 1) return rows;
    const half = Math.ceil(rows.length / 2);
    const refused = await writeIsolatingRefused(rows.slice(0, half), write, isRefused);
    return [...refused, ...(await writeIsolatingRefused(rows.slice(half), write, isRefused))];
  }
}
