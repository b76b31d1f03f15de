const GROUPS: Record<string, string[]> = {
  apps: ['apps create <appId> --name <name>', 'apps list'],
  app: [
    'app adoption <appId> [--channel <name>] [--window <hours, 1-720; default 24>]   (bundle versions of the devices active in the window)',
    'app signing-key <appId>   (the public keys device answers are signed with)',
    'app rotate-signing-key <appId>   (admin; the previous key stays published for RAMPART_SIGNING_KEY_OVERLAP_HOURS)',
  ],
  device: ['device explain <appId> <deviceId>   (why the device gets its answer: channel step, segment rule, bucket, cohort, each protocol\'s answer)'],
  bundles: [
    'bundles add <appId> <version> --url <url> --sha256 <hex> --size <bytes> [--native-range <range>] [--platforms ios,android]',
    'bundles add <appId> <version> --expo <expo export dir> --runtime-version <rv> --base-url <url the dir is served at> [--platforms ios,android]   (hashes every file; the CDN keeps them)',
    'bundles list <appId>',
  ],
  channels: [
    'channels list <appId>',
    'channels create <appId> <name> [--public] [--self-assign] [--platforms ios,android]',
    'channels update <appId> <name> [--public|--no-public] [--self-assign|--no-self-assign] [--platforms ios,android]',
  ],
  segments: [
    'segments list <appId>',
    'segments create <appId> <key> --rule <json|@file.json> [--priority <n>] [--window <json|@file.json>]...',
    'segments update <appId> <key> [--rule <json|@file.json>] [--priority <n>] [--window <json|@file.json>]...',
    'segments delete <appId> <key>',
  ],
  webhooks: ['webhooks list <appId>', 'webhooks create <appId> <url> [--events paused,rolled_back,...]   (prints the signing secret once)', 'webhooks delete <appId> <webhookId>'],
  releases: [
    'releases start <appId> <version> [--channel <name>] [--plan <preset|plan.json>] [--time-scale <x>] [--supersede] [--force]',
    '    [--bundle-for <segment>=<version>]...   (personalization: that segment gets its own bundle)',
    '    [--notify <json|@file.json>]...   ({"segment", "message": {title?, body?, data?}, "quietHours"?: {start, end}}: sent to the push relay when a stage opens for the segment)',
    'releases list <appId> [--channel <name>] [--status <status>] [--limit <n>]',
  ],
  release: [
    'release show <releaseId>',
    'release notifications <releaseId>   (segment notifications: devices, deliveries and their outcome per push relay)',
    'release insights <releaseId> [--step 5m|1h]   (per segment, last 24 h: exposure, adoption, time to 95 %, update success, crash-free canary vs control, session p50)',
    'release watch <releaseId>        (redraws on a terminal; one timestamped line per change when piped)',
    'release pause|resume|rollback|promote|promote-full|abort <releaseId> --reason "<why>"',
    'release force-withdraw <releaseId> --reason "<why>"   (only when its workflow is no longer running; devices go back to the baseline)',
  ],
  experiment: [
    'experiment start <appId> --arm <key>[=<version>][:next_launch|immediate][:<weight>]... --metric session_duration|crash_free_sessions|update_success|adoption|feature_use [--feature <name>] [--control <key>] [--guardrails crash_free_sessions,update_success,session_duration,feature_use:<name>] [--max-drop <percent>] [--time-limit 14d] [--channel <name>] [--plan <preset|plan.json>] [--time-scale <x>] [--supersede] [--force]   (an arm without a version runs the baseline)',
    'experiment results <releaseId>   (per arm: sample, value, change vs control with its always-valid interval, guardrail; sample-ratio check; winner)',
    'experiment stop-arm <releaseId> --arm <key> --reason "<why>"   (its devices go back to the baseline; the other arms go on)',
    'experiment promote-arm <releaseId> [--arm <key>] --reason "<why>"   (ships the arm, default the declared winner, to everyone)',
  ],
  keys: [
    'keys create <name> --role admin|release|oncall|viewer [--apps <appId>,...] [--expires <time|90d>]   (prints the key once)',
    'keys list',
    'keys revoke <keyId>',
  ],
  audit: ['audit [--app <appId>] [--actor key:<keyId>] [--action <action>] [--since <time|24h>] [--limit <n, at most 500>]   (newest first)'],
};

const FOOTER = `
options: --json prints the API's answer as is (watch: one JSON line per change; deletions print nothing)
         --help prints this help
environment: RAMPART_URL (default http://127.0.0.1:8080), RAMPART_API_KEY (default: .data/admin-key)
`;

export function isCommandGroup(name: string | undefined): name is string {
  return name !== undefined && name in GROUPS;
}

/** The whole usage, or one group's when the user is already inside it. */
export function usage(group?: string): string {
  const groups = isCommandGroup(group) ? [group] : Object.keys(GROUPS);
  const lines = groups.flatMap((g) => GROUPS[g]!.map((line) => `  rampart ${line}`));
  return `usage:\n${lines.join('\n')}\n${FOOTER}`;
}
