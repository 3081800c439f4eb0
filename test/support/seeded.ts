/** mulberry32: a small seeded generator, so a failing random schedule can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed in `envVar` if set, else a fresh one; printed either way with how to replay it. */
export function chooseSeed(envVar: string, what: string): number {
  const given = process.env[envVar];
  const seed = given ? Number(given) : Math.floor(Math.random() * 1_000_000);
  console.log(`${what} seed ${seed} (${envVar}=${seed} replays it)`);
  return seed;
}
