/** A `segsync serve` child process for the benches: started in a project dir, its URL read from its start line. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServeChild {
  child: ChildProcess;
  url: URL;
  /** everything it wrote to stderr so far */
  stderr: () => string;
  exited: Promise<number | null>;
}

export async function startServe(cli: string, dir: string, env: NodeJS.ProcessEnv): Promise<ServeChild> {
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const url = await new Promise<string>((res, rej) => {
    const t = setInterval(() => {
      const m = /on (http:\/\/\S+?)\/? \(pid/.exec(err);
      if (m?.[1]) {
        clearInterval(t);
        res(m[1]);
      } else if (child.exitCode !== null) {
        clearInterval(t);
        rej(new Error(`segsync serve exited:\n${err}`));
      }
    }, 50);
  });
  return { child, url: new URL(url), stderr: () => err, exited };
}
