import type { Queryable } from '../create-pool';

/** Segment key → bundle version: a personalized release's own bundle per segment. */
export type SegmentBundles = Record<string, string>;

export interface SegmentBundleStore {
  insert(releaseId: string, appId: string, mapping: SegmentBundles): Promise<void>;
  /** The release's mapping; {} for a release that is not personalized. */
  forRelease(releaseId: string): Promise<SegmentBundles>;
}

export function createSegmentBundleStore(db: Queryable): SegmentBundleStore {
  return {
    async insert(releaseId, appId, mapping) {
      const entries = Object.entries(mapping);
      if (entries.length === 0) return;
      await db.query(
        `INSERT INTO release_segment_bundles (release_id, app_id, segment_key, version)
         SELECT $1, $2, m.segment_key, m.version FROM unnest($3::text[], $4::text[]) AS m (segment_key, version)`,
        [releaseId, appId, entries.map(([segment]) => segment), entries.map(([, version]) => version)],
      );
    },
    async forRelease(releaseId) {
      const { rows } = await db.query<{ segment_key: string; version: string }>(
        'SELECT sb.segment_key, sb.version FROM release_segment_bundles sb WHERE sb.release_id = $1 ORDER BY sb.segment_key',
        [releaseId],
      );
      return Object.fromEntries(rows.map((r) => [r.segment_key, r.version]));
    },
  };
}
