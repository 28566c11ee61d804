/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, and self time
 * grouped by where the code lives (our dist/src files, each node_modules package, node internals,
 * GC); and a sampling heap profile (`.heapprofile`, bench/fanout.ts `--alloc-prof`): the bytes
 * allocated, by site and by area. Usage: node dist/bench/cpu-profile-summary.js <file | dir> [--top N]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface ProfileSummary {
  /** Sampled ms outside (idle). */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly functions: readonly { readonly name: string; readonly where: string; readonly ms: number; readonly share: number }[];
  readonly areas: readonly { readonly area: string; readonly ms: number; readonly share: number }[];
}

/** Where a script lives, shortened: `src/ingest/ingestor.js`, `node_modules/pg`, `node:internal`. */
function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return `node_modules/${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '')}`;
  }
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^file:\/\//, '');
}

export function summariseProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i; attribute the gap after sample i to it.
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!;
    const us = deltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, us));
  }
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = url ? `${area(url, name)}:${lineNumber + 1}` : area(url, name);
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const a = area(url, name);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ area: name, ms: us / 1000, share: share(us) })),
  };
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `busy ${summary.busyMs.toFixed(0)} ms sampled, idle ${summary.idleMs.toFixed(0)} ms`,
    '',
    '| self ms | share | function | where |',
    '|---:|---:|---|---|',
    ...summary.functions.map((f) => `| ${f.ms.toFixed(0)} | ${pct(f.share)} | ${f.name} | ${f.where} |`),
    '',
    '| self ms | share | area |',
    '|---:|---:|---|',
    ...summary.areas.map((a) => `| ${a.ms.toFixed(0)} | ${pct(a.share)} | ${a.area} |`),
  ];
  return lines.join('\n');
}

/** A V8 sampling heap profile (HeapProfiler.stopSampling, `.heapprofile`): a tree of allocation sites. */
interface AllocationNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly AllocationNode[];
}

export interface AllocationSummary {
  /** Bytes the samples stand for (an estimate: one sample per `samplingInterval` bytes on average). */
  readonly bytes: number;
  readonly sites: readonly { readonly name: string; readonly where: string; readonly bytes: number; readonly share: number }[];
  readonly areas: readonly { readonly area: string; readonly bytes: number; readonly share: number }[];
}

/** The top allocation sites (by bytes allocated in the function itself) and areas of a `.heapprofile`. */
export function summariseAllocations(file: string, top = 20): AllocationSummary {
  const { head } = JSON.parse(fs.readFileSync(file, 'utf8')) as { head: AllocationNode };
  const sites = new Map<string, { name: string; where: string; bytes: number }>();
  const areas = new Map<string, number>();
  let bytes = 0;
  const visit = (node: AllocationNode): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (node.selfSize > 0) {
      const name = functionName || '(anonymous)';
      const where = url ? `${area(url, name)}:${lineNumber + 1}` : area(url, name);
      const entry = sites.get(`${name}@${where}`) ?? { name, where, bytes: 0 };
      entry.bytes += node.selfSize;
      sites.set(`${name}@${where}`, entry);
      const a = area(url, name);
      areas.set(a, (areas.get(a) ?? 0) + node.selfSize);
      bytes += node.selfSize;
    }
    node.children.forEach(visit);
  };
  visit(head);
  const share = (b: number) => (bytes > 0 ? b / bytes : 0);
  return {
    bytes,
    sites: [...sites.values()]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, top)
      .map((site) => ({ ...site, share: share(site.bytes) })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, b]) => ({ area: name, bytes: b, share: share(b) })),
  };
}

/** `per`: what the total is divided by for the "per …" figure (e.g. the webhooks of the stream). */
export function formatAllocations(summary: AllocationSummary, per?: { readonly count: number; readonly what: string }): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  return [
    `allocated ${mib(summary.bytes)} MiB` + (per ? `, ${(summary.bytes / 1024 / per.count).toFixed(1)} KiB per ${per.what}` : ''),
    '',
    '| MiB | share | allocated in | where |',
    '|---:|---:|---|---|',
    ...summary.sites.map((s) => `| ${mib(s.bytes)} | ${pct(s.share)} | ${s.name} | ${s.where} |`),
    '',
    '| MiB | share | area |',
    '|---:|---:|---|',
    ...summary.areas.map((a) => `| ${mib(a.bytes)} | ${pct(a.share)} | ${a.area} |`),
  ].join('\n');
}

if (require.main === module) {
  const { values, positionals: files } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
  const top = values.top === undefined ? 25 : Number(values.top);
  if (files.length === 0) {
    console.error('usage: node dist/bench/cpu-profile-summary.js <file.cpuprofile | file.heapprofile | dir> [--top N]');
    process.exit(2);
  }
  for (const target of files) {
    const list = fs.statSync(target).isDirectory()
      ? fs
          .readdirSync(target)
          .filter((f) => f.endsWith('.cpuprofile') || f.endsWith('.heapprofile'))
          .map((f) => path.join(target, f))
      : [target];
    for (const file of list) {
      console.log(`## ${file}\n`);
      console.log(
        file.endsWith('.heapprofile')
          ? formatAllocations(summariseAllocations(file, top))
          : formatProfileSummary(summariseProfile(file, top)),
      );
      console.log('');
    }
  }
}
