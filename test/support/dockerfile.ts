import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Runs a Dockerfile without Docker, for test/production-install.test.ts: Docker cannot run on the
 * project's machines, but what an image holds is decided by its COPY and RUN lines, and those run as
 * well in a folder per stage (the stage's `/`). Supports what our Dockerfile uses and refuses the rest
 * loudly, so that a new instruction or flag is added here rather than silently skipped:
 *
 * - `ARG` before the first `FROM` (the base images are not pulled: the machine's Node and npm stand
 *   in for the image's), `FROM <image> AS <name>`;
 * - `WORKDIR`, `ENV`, `COPY [--from=<stage>] [--chown=<user>[:<group>]] <source>... <dest>` (from the
 *   build context, or from an earlier stage's folder);
 * - `RUN <shell command>`: `sh -c` in the stage's WORKDIR folder, with the stage's ENV over the
 *   caller's environment; so RUN lines must use paths relative to WORKDIR;
 * - recorded for the caller to check and use: `USER`, `EXPOSE`, `VOLUME`, `HEALTHCHECK [options] CMD
 *   [exec form]`, `CMD [exec form]` (a shell-form CMD is refused: SIGTERM would reach the shell, not
 *   the service), `LABEL`.
 *
 * Not reproduced: file ownership (`--chown` is recorded in {@link DockerStage.owned}), the user
 * switch, and the base images' contents.
 */

/** One stage of a Dockerfile as run. */
export interface DockerStage {
  readonly name: string;
  /** The host folder standing for the stage's `/`. */
  readonly root: string;
  /** The current WORKDIR, an image path (`/app`). */
  workdir: string;
  /** ENV so far. */
  readonly env: Record<string, string>;
  user: string | undefined;
  /** CMD, exec form. */
  cmd: readonly string[] | undefined;
  /** HEALTHCHECK: its options (`interval` → `10s`) and its CMD, exec form. */
  healthcheck: { readonly options: Readonly<Record<string, string>>; readonly cmd: readonly string[] } | undefined;
  readonly exposed: string[];
  /** VOLUME paths (image paths). */
  readonly volumes: string[];
  /** Image paths copied with `--chown`, and the owner given (`node:node` → `node`). */
  readonly owned: { readonly path: string; readonly user: string }[];
}

/** What a RUN line took. */
export interface DockerStep {
  readonly stage: string;
  readonly instruction: string;
  readonly ms: number;
}

export interface RunDockerfileOptions {
  readonly dockerfile: string;
  /** The build context, already filtered (see {@link buildContext}). */
  readonly context: string;
  /** An empty folder: each stage gets `<scratch>/<stage name>` as its `/`. */
  readonly scratch: string;
  /** The environment RUN lines get under the stage's ENV (PATH, HOME, npm settings...). */
  readonly runEnv: Readonly<Record<string, string>>;
}

/** One instruction, its continuation lines joined. */
interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** Splits a Dockerfile into instructions: comment lines dropped (within continuations too), `\` continues. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line) || (pending === undefined && line.trim() === '')) return;
    const continues = /\\\s*$/.test(line);
    const body = continues ? line.replace(/\\\s*$/, '') : line;
    pending = pending ? { text: `${pending.text} ${body.trim()}`, line: pending.line } : { text: body.trim(), line: index + 1 };
    if (continues) return;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text);
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: pending.line });
    pending = undefined;
  });
  if (pending) throw new Error(`Dockerfile line ${pending.line}: the last instruction ends with a continuation`);
  return instructions;
}

/** The host path of an image path in a stage; refuses paths that would leave the stage's folder. */
export function hostPath(stage: DockerStage, imagePath: string): string {
  const resolved = path.posix.resolve(stage.workdir, imagePath);
  const host = path.join(stage.root, resolved);
  if (host !== stage.root && !host.startsWith(`${stage.root}${path.sep}`)) throw new Error(`${imagePath} leaves the stage`);
  return host;
}

/**
 * Runs the Dockerfile's stages in order into `scratch`. Resolves with the stages (the last is the
 * image) and the time of each RUN line; rejects with the failing instruction and its output.
 */
export async function runDockerfile(options: RunDockerfileOptions): Promise<{ stages: DockerStage[]; steps: DockerStep[] }> {
  const stages: DockerStage[] = [];
  const steps: DockerStep[] = [];
  const args = new Map<string, string>();
  for (const { keyword, args: text, line } of parseDockerfile(fs.readFileSync(options.dockerfile, 'utf8'))) {
    const where = `Dockerfile line ${line} (${keyword} ${text})`;
    const stage = stages.at(-1);
    const fail = (why: string): never => {
      throw new Error(`${where}: ${why}`);
    };
    if (keyword === 'FROM') {
      const match = /^(\S+)\s+AS\s+([a-z][a-z0-9_.-]*)$/i.exec(text) ?? fail('expected FROM <image> AS <name>');
      const image = match[1]!.replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? fail(`ARG ${name} is not declared`));
      const name = match[2]!;
      if (stages.some((s) => s.name === name)) fail(`stage ${name} declared twice`);
      const root = path.join(options.scratch, name);
      fs.mkdirSync(root, { recursive: true });
      stages.push({
        name,
        root,
        workdir: '/',
        env: {},
        user: undefined,
        cmd: undefined,
        healthcheck: undefined,
        exposed: [],
        volumes: [],
        owned: [],
      });
      void image; // The machine's Node and npm stand in for the image's.
      continue;
    }
    if (keyword === 'ARG') {
      if (stage) fail('ARG inside a stage is not supported here');
      const match = /^(\w+)(?:=(\S*))?$/.exec(text) ?? fail('expected ARG NAME[=default]');
      args.set(match[1]!, match[2] ?? '');
      continue;
    }
    if (!stage) fail('instruction before the first FROM');
    const current = stage!;
    if (/\$/.test(text) && keyword !== 'RUN' && keyword !== 'HEALTHCHECK' && keyword !== 'CMD') fail('variables are not expanded here');
    switch (keyword) {
      case 'WORKDIR':
        current.workdir = path.posix.resolve(current.workdir, text);
        fs.mkdirSync(hostPath(current, current.workdir), { recursive: true });
        break;
      case 'ENV':
        for (const [name, value] of parseAssignments(text, fail)) current.env[name] = value;
        break;
      case 'LABEL':
        parseAssignments(text, fail);
        break;
      case 'USER':
        current.user = text;
        break;
      case 'EXPOSE':
        current.exposed.push(...text.split(/\s+/));
        break;
      case 'VOLUME':
        current.volumes.push(...(text.startsWith('[') ? execForm(text, fail) : text.split(/\s+/)));
        break;
      case 'CMD':
        if (!text.startsWith('[')) fail('use the exec form (JSON array): in the shell form SIGTERM reaches sh, not the service');
        current.cmd = execForm(text, fail);
        break;
      case 'HEALTHCHECK': {
        const match =
          /^((?:--[a-z-]+=\S+\s+)*)CMD\s+(\[.*\])$/.exec(text) ?? fail('expected HEALTHCHECK [--option=value...] CMD [exec form]');
        const healthOptions = Object.fromEntries(
          match[1]!
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map((flag) => flag.slice(2).split('=') as [string, string]),
        );
        current.healthcheck = { options: healthOptions, cmd: execForm(match[2]!, fail) };
        break;
      }
      case 'COPY':
        copy(current, stages, options.context, text, fail);
        break;
      case 'RUN': {
        if (text.startsWith('[') || text.startsWith('--')) fail('only the shell form without flags is supported here');
        const started = Date.now();
        await runShell(text, hostPath(current, current.workdir), { ...options.runEnv, ...current.env }).catch((error: Error) =>
          fail(error.message),
        );
        steps.push({ stage: current.name, instruction: `RUN ${text}`, ms: Date.now() - started });
        break;
      }
      default:
        fail('instruction not supported by test/support/dockerfile.ts');
    }
  }
  if (stages.length === 0) throw new Error('the Dockerfile has no FROM');
  return { stages, steps };
}

/**
 * Copies the tracked files of `repo` (and new ones git does not ignore) that the repository's
 * .dockerignore lets through into `dest`, as `docker build` would send them. Returns their paths.
 */
export function buildContext(repo: string, dest: string): string[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && fs.existsSync(path.join(repo, file)));
  const ignoreFile = path.join(repo, '.dockerignore');
  const rules = fs.existsSync(ignoreFile) ? parseDockerignore(fs.readFileSync(ignoreFile, 'utf8')) : [];
  const files = [...new Set(listed)].filter((file) => !isIgnored(file, rules)).sort();
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dest, file)), { recursive: true });
    fs.copyFileSync(path.join(repo, file), path.join(dest, file));
  }
  return files;
}

interface IgnoreRule {
  readonly pattern: RegExp;
  readonly include: boolean;
}

/** .dockerignore: one pattern a line, `#` comments, `!` re-includes; `*`, `?` and `**` as in Docker. */
function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const glob = path.posix
        .normalize((include ? line.slice(1) : line).trim())
        .replace(/^\/+/, '')
        .replace(/\/+$/, '');
      const source = glob
        .split(/(\*\*|\*|\?)/)
        .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return { pattern: new RegExp(`^${source}$`), include };
    });
}

/** Docker's rule: a pattern matches a path or one of its parent folders; the last matching rule decides. */
function isIgnored(file: string, rules: readonly IgnoreRule[]): boolean {
  const parts = file.split('/');
  const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
  let ignored = false;
  for (const rule of rules) if (candidates.some((candidate) => rule.pattern.test(candidate))) ignored = !rule.include;
  return ignored;
}

function copy(stage: DockerStage, stages: readonly DockerStage[], context: string, text: string, fail: (why: string) => never): void {
  const words = text.split(/\s+/);
  if (words.some((word) => /["']/.test(word))) fail('quoted COPY arguments are not supported here');
  let from: DockerStage | undefined;
  let owner: string | undefined;
  while (words[0]?.startsWith('--')) {
    const [flag, value] = words.shift()!.slice(2).split('=') as [string, string | undefined];
    if (flag === 'from' && value) from = stages.find((s) => s.name === value) ?? fail(`no earlier stage ${value}`);
    else if (flag === 'chown' && value) owner = value.split(':')[0]!;
    else fail(`COPY --${flag} is not supported here`);
  }
  if (words.length < 2) fail('COPY needs a source and a destination');
  const destination = words.pop()!;
  const target = hostPath(stage, destination);
  const intoFolder = destination.endsWith('/') || words.length > 1 || (fs.existsSync(target) && fs.statSync(target).isDirectory());
  for (const source of words) {
    const matches = from ? [hostPath({ ...from, workdir: '/' }, source)] : expand(context, source);
    if (matches.length === 0 || !matches.every((match) => fs.existsSync(match)))
      fail(`${source} does not exist in ${from ? `stage ${from.name}` : 'the build context'}`);
    for (const match of matches) {
      if (fs.statSync(match).isDirectory()) {
        // A folder's contents go into the destination, which is created (as Docker does).
        fs.cpSync(match, target, { recursive: true, verbatimSymlinks: true });
      } else {
        const file = intoFolder ? path.join(target, path.basename(match)) : target;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.copyFileSync(match, file);
      }
    }
  }
  if (owner) stage.owned.push({ path: path.posix.resolve(stage.workdir, destination), user: owner });
}

/** A context path, with `*` and `?` in its last part matched against the folder's entries. */
function expand(context: string, source: string): string[] {
  const full = path.join(context, path.posix.normalize(source));
  if (!full.startsWith(context)) return [];
  if (!/[*?]/.test(path.basename(full))) return [full];
  const pattern = new RegExp(
    `^${path
      .basename(full)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  const folder = path.dirname(full);
  return fs.existsSync(folder)
    ? fs
        .readdirSync(folder)
        .filter((name) => pattern.test(name))
        .map((name) => path.join(folder, name))
    : [];
}

/** `KEY=value KEY2="a b"`. */
function parseAssignments(text: string, fail: (why: string) => never): [string, string][] {
  const found: [string, string][] = [];
  const pattern = /\s*([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|\S*)/y;
  let index = 0;
  while (index < text.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(text) ?? fail('expected KEY=value pairs');
    const raw = match[2]!;
    found.push([match[1]!, raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
    index = pattern.lastIndex;
    while (text[index] === ' ') index += 1;
  }
  return found;
}

function execForm(text: string, fail: (why: string) => never): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail('the exec form must be a JSON array of strings');
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((item) => typeof item === 'string'))
    fail('the exec form must be a JSON array of strings');
  return parsed as string[];
}

/** `sh -c command` in `cwd` with exactly `env`; rejects with the exit code and the output's tail. */
function runShell(command: string, cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`exited with ${code ?? signal}:\n${output}`))));
  });
}
