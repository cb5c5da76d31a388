// Checks a package manifest's dependency declarations.

const PEERS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'];

/**
 * Dependency rules for a published package.json: tfjs only as a peer, siblings by a version
 * range that the sibling's current version meets. `siblings` maps package names to versions.
 * Returns the problems found, as sentences.
 */
export function manifestProblems(manifest, siblings) {
  const problems = [];
  const { dependencies = {}, devDependencies = {}, peerDependencies = {} } = manifest;
  for (const peer of PEERS) {
    if (peer in dependencies) {
      problems.push(`${peer} is in dependencies; make it a peerDependency so apps keep one tfjs`);
    }
    if (peer in devDependencies && !(peer in peerDependencies)) {
      problems.push(`${peer} is a devDependency only; list it in peerDependencies too`);
    }
  }
  for (const [name, range] of Object.entries({ ...dependencies, ...peerDependencies })) {
    const sibling = siblings.get(name);
    if (!sibling) continue;
    if (!/^[\^~]?\d+\.\d+\.\d+/.test(range)) {
      problems.push(`depends on ${name}@${range}; expected a version range such as ^${sibling}`);
    } else if (!satisfiesCaretOrTilde(sibling, range)) {
      problems.push(`depends on ${name}@${range}, which ${name}@${sibling} does not satisfy`);
    }
  }
  return problems;
}

/** Enough semver for our own ranges (`1.2.3`, `^1.2.3`, `~1.2.3`). */
export function satisfiesCaretOrTilde(version, range) {
  const parse = (text) =>
    text
      .replace(/^[\^~]/, '')
      .split(/[.-]/)
      .slice(0, 3)
      .map(Number);
  const [v, r] = [parse(version), parse(range)];
  const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  if (cmp(v, r) < 0) return false;
  if (range.startsWith('~')) return v[0] === r[0] && v[1] === r[1];
  if (!range.startsWith('^')) return cmp(v, r) === 0;
  if (r[0] > 0) return v[0] === r[0];
  if (r[1] > 0) return v[0] === 0 && v[1] === r[1];
  return v[0] === 0 && v[1] === 0 && v[2] === r[2];
}
