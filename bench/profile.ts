import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderTable } from './report.ts';

/**
 * Summary of a V8 `.cpuprofile` (written by `node --cpu-prof`): where the busy time went, by function (self time)
 * and by package (inclusive: time with at least one frame of that package on the stack).
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface AreaTime {
  readonly area: string;
  /** Samples whose innermost package/project frame is in this area (core and native time goes to its caller). */
  readonly attributedMs: number;
  /** Samples with any frame of this area on the stack. */
  readonly inclusiveMs: number;
}

export interface ProfileSummary {
  /** Sampled time in the window, excluding (idle), ms. */
  readonly busyMs: number;
  readonly idleMs: number;
  /** Functions by self time, each with its most frequent nearest caller outside Node core (`via`). */
  readonly topSelf: readonly { readonly name: string; readonly ms: number; readonly via: string }[];
  readonly byArea: readonly AreaTime[];
}

/** Profile-relative time window (ms since the profile started) to summarise; samples outside it are ignored. */
export interface ProfileWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** The newest `.cpuprofile` in `dir`. */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const last = files.at(-1);
  return last === undefined ? undefined : join(dir, last);
}

const IDLE = '(idle)';

/** Which package or project area a script URL belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node: core';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '?');
    return pkg;
  }
  if (url.includes('/bench/')) return 'project: bench';
  const src = /\/([^/]+)\/src\//.exec(url);
  return src?.[1] === undefined ? url : `project: ${src[1]}`;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const parts = url.split('/');
  return parts.slice(-3).join('/');
}

const GENERIC_AREAS = new Set(['node: core', '(native/V8)', '(program)', '(garbage collector)']);

/** Reads and summarises a profile; `top` bounds both lists. */
export function summariseProfile(file: string, window?: ProfileWindow, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const vias = new Map<string, Map<string, number>>();
  const attributed = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, ms: number): void => {
    m.set(k, (m.get(k) ?? 0) + ms);
  };
  let busyMs = 0;
  let idleMs = 0;
  let atMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    atMs += ms;
    if (window !== undefined && (atMs < window.fromMs || atMs > window.toMs)) return;
    const node = byId.get(id);
    if (node === undefined) return;
    const frame = node.callFrame;
    if (frame.functionName === IDLE) {
      idleMs += ms;
      return;
    }
    busyMs += ms;
    const name = frame.url === '' ? frame.functionName || '(anonymous native)' : `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    add(self, name, ms);
    const seen = new Set<string>();
    const selfArea = areaOf(frame.url, frame.functionName);
    let owner: string | undefined;
    let via: string | undefined;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (f === undefined || f.functionName === '(root)') continue;
      const a = areaOf(f.url, f.functionName);
      seen.add(a);
      if (owner === undefined && !GENERIC_AREAS.has(a)) owner = a;
      if (via === undefined && a !== selfArea && !GENERIC_AREAS.has(a)) via = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
    }
    let viaMap = vias.get(name);
    if (viaMap === undefined) vias.set(name, (viaMap = new Map()));
    add(viaMap, via ?? '', ms);
    add(attributed, owner ?? selfArea, ms);
    for (const a of seen) add(inclusive, a, ms);
  });
  const areas = new Set([...attributed.keys()]);
  const byArea = [...areas]
    .map((area) => ({ area, attributedMs: attributed.get(area) ?? 0, inclusiveMs: inclusive.get(area) ?? 0 }))
    .sort((x, y) => y.attributedMs - x.attributedMs)
    .slice(0, top);
  return {
    busyMs,
    idleMs,
    topSelf: [...self.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([n, ms]) => ({ name: n, ms, via: [...(vias.get(n) ?? new Map<string, number>()).entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? '' })),
    byArea,
  };
}

/** Two tables: packages (attributed and inclusive share of busy time) and functions (self share). */
export function renderProfile(summary: ProfileSummary): string {
  const pct = (ms: number): string => `${((100 * ms) / summary.busyMs).toFixed(1)}%`;
  const areas = renderTable([
    ['package / area', 'attributed', 'on stack'],
    ...summary.byArea.map((a) => [a.area, pct(a.attributedMs), GENERIC_AREAS.has(a.area) ? '' : pct(a.inclusiveMs)]),
  ]);
  const fns = renderTable([
    ['function (self time)', 'busy %', 'mostly via (nearest library/project caller)'],
    ...summary.topSelf.map((f) => [f.name, pct(f.ms), f.via]),
  ]);
  return [
    `busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms (main thread, load window only). ` +
      '"attributed": innermost library/project frame on the stack (Node core and native time count for their caller).',
    '',
    areas,
    '',
    fns,
  ].join('\n');
}
