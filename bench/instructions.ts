import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/*
 * Instructions per request under callgrind: on a shared 2-core VM, wall-clock throughput of the
 * same server varies by ±30 % between runs, while instruction counts repeat to within a few percent.
 * The server runs under valgrind with counting off; it is warmed up, then counted for a fixed load.
 */

export interface InstructionTarget {
  name: string;
  /** Node arguments of the server process. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  port: number;
  /** Loads, each `{path, body}` (no body: a GET, the device id in the path), measured one after the other on the same process. */
  loads: Array<{ label: string; path: string; body?: string }>;
}

export interface InstructionResult {
  label: string;
  requests: number;
  instructionsPerRequest: number;
}

export function callgrindAvailable(): boolean {
  return existsSync('/usr/bin/valgrind') && existsSync('/usr/bin/callgrind_control');
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`server on ${port} did not start under valgrind`);
}

export async function measureInstructions(
  target: InstructionTarget,
  load: (url: string, body: string | undefined, seconds: number) => Promise<{ totalRequests: number }>,
  outDir: string,
): Promise<InstructionResult[]> {
  const dir = path.join(outDir, `callgrind-${target.name}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${dir}/cg.%p`, process.execPath, ...target.args], {
    env: { ...process.env, ...target.env },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const control = (...args: string[]) => run('callgrind_control', [...args, String(child.pid)]);
  const results: InstructionResult[] = [];
  try {
    await waitForPort(target.port, 180_000);
    for (const l of target.loads) await load(`http://127.0.0.1:${target.port}${l.path}`, l.body, 40);
    for (const l of target.loads) {
      const before = new Set(await readdir(dir));
      await control('-z');
      await control('-i', 'on');
      const { totalRequests } = await load(`http://127.0.0.1:${target.port}${l.path}`, l.body, 30);
      await control('-i', 'off');
      await control('-d');
      const dump = (await readdir(dir)).find((f) => !before.has(f) && f.startsWith('cg.'));
      if (!dump) throw new Error(`callgrind wrote no dump for ${l.label}`);
      const totals = /^totals:\s+(\d+)/m.exec(await readFile(path.join(dir, dump), 'utf8'));
      results.push({ label: l.label, requests: totalRequests, instructionsPerRequest: Math.round(Number(totals?.[1] ?? 0) / totalRequests) });
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  return results;
}
