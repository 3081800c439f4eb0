// Workload C's floor: spawn `true` N times, one at a time, from a Node process that loads nothing
// else, and print the wall times (ms) as JSON. Usage: node bench/spawn-floor.mjs N
import { spawnTimes } from './lib.mjs';

process.stdout.write(JSON.stringify(await spawnTimes(Number(process.argv[2] ?? 100))) + '\n');
