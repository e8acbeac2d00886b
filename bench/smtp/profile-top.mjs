// Prints the top functions of a V8 .cpuprofile by self time and by total time (inclusive, each
// function counted once per sample). Usage: node bench/smtp/profile-top.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[3] ?? 15);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n) => {
  const f = n.callFrame;
  const file = f.url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/').replace(/^node:/, 'node:');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
};
const selfTicks = new Map();
const totalTicks = new Map();
const deltas = profile.timeDeltas;
let all = 0;
profile.samples.forEach((id, i) => {
  const dt = deltas[i] ?? 0;
  all += dt;
  const node = byId.get(id);
  const key = name(node);
  selfTicks.set(key, (selfTicks.get(key) ?? 0) + dt);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    totalTicks.set(k, (totalTicks.get(k) ?? 0) + dt);
  }
});
const show = (title, map) => {
  console.log(`${title} (of ${(all / 1000).toFixed(0)} ms sampled)`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${((100 * v) / all).toFixed(1).padStart(5)}%  ${k}`);
};
const byPackage = new Map();
for (const [k, v] of selfTicks) {
  const where = k.split(' ').slice(1).join(' ');
  const pkg =
    /^node_modules\/((@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? /^src\/([^/]+)/.exec(where)?.[0] ?? (where.startsWith('node:') ? 'node:*' : k.split(' ')[0]);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + v);
}
show('self time by package', byPackage);
show('self time', selfTicks);
show('total time', new Map([...totalTicks].filter(([k]) => !/^\((root|program|idle|garbage collector)\)/.test(k))));
