// Reads `tsc --pretty false` output.

/**
 * Splits tsc output into errors in our code (the consumer files and node_modules/@gensynth) and
 * errors inside third-party declarations, which we cannot fix and do not fail on.
 */
export function classifyTscErrors(output) {
  const ours = [];
  let thirdParty = 0;
  let current = null;
  for (const line of output.split('\n')) {
    const match = /^(\S.*?)\(\d+,\d+\): error TS\d+/.exec(line);
    if (match) {
      const file = match[1].replace(/\\/g, '/');
      const isOurs = !file.includes('node_modules/') || file.includes('node_modules/@gensynth/');
      current = isOurs ? [line] : null;
      if (current) ours.push(current);
      else thirdParty += 1;
    } else if (/^error TS\d+/.test(line)) {
      current = [line]; // an error with no file (bad tsconfig, missing types)
      ours.push(current);
    } else if (current && line.trim() !== '') {
      current.push(line);
    }
  }
  return { ours: ours.map((lines) => lines.join('\n')), thirdParty };
}
