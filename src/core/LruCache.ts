/** A map that keeps at most `limit` entries (and, with a weigher, at most `maxWeight` in total), dropping the least recently used. */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  private weight = 0;

  constructor(
    private readonly limit: number,
    private readonly maxWeight = Number.POSITIVE_INFINITY,
    private readonly weigh: (v: V) => number = () => 0,
  ) {}

  /** The value for `key`, now the most recently used. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Stores `value`, dropping the oldest entries while over a limit. */
  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.weight -= this.weigh(old);
    }
    this.map.set(key, value);
    this.weight += this.weigh(value);
    while (this.map.size > this.limit || (this.weight > this.maxWeight && this.map.size > 1)) {
      const [k, v] = this.map.entries().next().value as [K, V];
      this.map.delete(k);
      this.weight -= this.weigh(v);
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.map.size;
  }

  /** Forgets every entry. */
  clear(): void {
    this.map.clear();
    this.weight = 0;
  }
}
