import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SpawnedProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves with the first output line matching the pattern. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns a process in its own process group and collects its output lines. */
export function spawnProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): SpawnedProcess {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output: string[] = [];
  const listeners: Array<(line: string) => void> = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      for (const listener of listeners) listener(line);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output,
    exited,
    waitForLine(pattern, timeoutMs) {
      const seen = output.map((line) => line.match(pattern)).find(Boolean);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${output.slice(-40).join('\n')}`)), timeoutMs);
        listeners.push((line) => {
          const match = line.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          }
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`process exited before printing ${pattern}:\n${output.slice(-40).join('\n')}`));
        });
      });
    },
  };
}
