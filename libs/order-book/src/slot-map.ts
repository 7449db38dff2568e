// Open-addressing hash map from non-negative safe integers (order ids, account ids) to int32 values (the
// book's record slots): linear probing, backward-shift deletion, no tombstones. One Float64Array holds the
// table, two doubles per entry: the key plus one (0 marks an empty entry, so a new table needs no fill) and
// the value, read through an Int32Array view of the same memory. A probe touches one cache line for key and
// value together, lookups allocate nothing, and the map is a single object for the garbage collector
// however many entries it holds (a Map or an array of objects is one traced object per entry).
//
// Growth is incremental: when the table reaches half load a table twice the size becomes the target of all
// inserts and the old one is drained a few entries per set/delete (each drained entry is taken out of the
// old table by backward-shift deletion, so lookups in it stay correct), so no single operation rehashes
// the whole map (with 100k+ resting orders that was a stall of milliseconds). Iteration order stays
// unspecified; the contents and every result are the same as with an all-at-once rehash.

/** Empty entry; an occupied one holds key + 1 (exact: keys are safe integers, so key + 1 <= 2^53). */
const EMPTY = 0;
const MAX_KEY = Number.MAX_SAFE_INTEGER;
const TWO_32 = 4294967296;
/** Old-table entries moved per set/delete while growing: drains well before the new table is half full. */
const DRAIN_PER_OP = 4;
/** Returned by get() for an absent key. */
export const ABSENT = -1;

function slotOf(key: number, mask: number): number {
  const lo = key >>> 0;
  const hi = key >= TWO_32 ? (key / TWO_32) >>> 0 : 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h & mask;
}

/** Entry index of key in the table, or -1 (key must be a non-negative safe integer). */
function find(keys: Float64Array, mask: number, key: number): number {
  const stored = key + 1;
  let i = slotOf(key, mask);
  for (;;) {
    const k = keys[i << 1]!;
    if (k === stored) return i;
    if (k === EMPTY) return -1;
    i = (i + 1) & mask;
  }
}

/** Removes entry i (backward-shift: later members of the probe run move into the hole). */
function removeAt(keys: Float64Array, vals: Int32Array, mask: number, i0: number): void {
  let i = i0;
  let j = i;
  for (;;) {
    j = (j + 1) & mask;
    const k = keys[j << 1]!;
    if (k === EMPTY) break;
    const home = slotOf(k - 1, mask);
    // Entry at j may fill hole i iff home is not cyclically in (i, j].
    if (i <= j ? home <= i || home > j : home <= i && home > j) {
      keys[i << 1] = k;
      vals[(i << 2) | 2] = vals[(j << 2) | 2]!;
      i = j;
    }
  }
  keys[i << 1] = EMPTY;
}

export class SlotMap {
  /** Entry i: keys[2i] = key + 1, vals[4i + 2] = value (an Int32Array view of the same buffer: bytes of double 2i + 1). */
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  /** Entries in the current table. */
  private used = 0;
  /** Table being drained while growing (null when not growing); its entries are not in the current table. */
  private oldKeys: Float64Array | null = null;
  private oldVals: Int32Array = new Int32Array(0);
  private oldMask = 0;
  private oldUsed = 0;
  /** Every old entry below this index is empty. */
  private drainAt = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.keys = new Float64Array(cap * 2);
    this.vals = new Int32Array(this.keys.buffer);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.used + this.oldUsed;
  }

  /** The value, or ABSENT (also for keys that are not non-negative safe integers). */
  get(key: number): number {
    // Also keeps 2^53 (whose + 1 rounds to 2^53) from matching 2^53 - 1, and -1 from matching an empty entry.
    if (!(key >= 0 && key <= MAX_KEY)) return ABSENT;
    const keys = this.keys;
    const mask = this.mask;
    const stored = key + 1;
    let i = slotOf(key, mask);
    for (;;) {
      const k = keys[i << 1]!;
      if (k === stored) return this.vals[(i << 2) | 2]!;
      if (k === EMPTY) break;
      i = (i + 1) & mask;
    }
    const old = this.oldKeys;
    if (old === null) return ABSENT;
    const j = find(old, this.oldMask, key);
    return j < 0 ? ABSENT : this.oldVals[(j << 2) | 2]!;
  }

  has(key: number): boolean {
    return this.get(key) !== ABSENT;
  }

  /** Insert or replace. key must be a non-negative safe integer, value a non-negative int32. */
  set(key: number, value: number): void {
    if (this.oldKeys !== null) {
      const j = find(this.oldKeys, this.oldMask, key);
      if (j >= 0) {
        this.oldVals[(j << 2) | 2] = value;
        return;
      }
      this.drain(DRAIN_PER_OP);
    }
    if ((this.used + 1) * 2 > this.mask + 1) {
      // Not reached while growing (the drain finishes long before), but never let two growths overlap.
      if (this.oldKeys !== null) this.drain(Infinity);
      this.grow();
    }
    const keys = this.keys;
    const mask = this.mask;
    const stored = key + 1;
    let i = slotOf(key, mask);
    for (;;) {
      const k = keys[i << 1]!;
      if (k === EMPTY) {
        keys[i << 1] = stored;
        this.vals[(i << 2) | 2] = value;
        this.used++;
        return;
      }
      if (k === stored) {
        this.vals[(i << 2) | 2] = value;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  delete(key: number): boolean {
    if (!(key >= 0 && key <= MAX_KEY)) return false;
    const i = find(this.keys, this.mask, key);
    if (i >= 0) {
      removeAt(this.keys, this.vals, this.mask, i);
      this.used--;
      if (this.oldKeys !== null) this.drain(DRAIN_PER_OP);
      return true;
    }
    const old = this.oldKeys;
    if (old === null) return false;
    const j = find(old, this.oldMask, key);
    if (j < 0) return false;
    removeAt(old, this.oldVals, this.oldMask, j);
    if (--this.oldUsed === 0) this.oldKeys = null;
    else this.drain(DRAIN_PER_OP);
    return true;
  }

  /** Calls fn for every entry (order is unspecified: never use it for anything deterministic). */
  forEach(fn: (value: number, key: number) => void): void {
    const tables: [Float64Array | null, Int32Array][] = [
      [this.keys, this.vals],
      [this.oldKeys, this.oldVals],
    ];
    for (const [keys, vals] of tables) {
      if (keys === null) continue;
      for (let i = 0; i < keys.length >> 1; i++) {
        const k = keys[i << 1]!;
        if (k !== EMPTY) fn(vals[(i << 2) | 2]!, k - 1);
      }
    }
  }

  /** Starts growing: the current table (at half load) becomes the old one, to be drained into a new one. */
  private grow(): void {
    const cap = (this.mask + 1) * 2;
    this.oldKeys = this.keys;
    this.oldVals = this.vals;
    this.oldMask = this.mask;
    this.oldUsed = this.used;
    this.drainAt = 0;
    this.keys = new Float64Array(cap * 2);
    this.vals = new Int32Array(this.keys.buffer);
    this.mask = cap - 1;
    this.used = 0;
  }

  /**
   * Moves up to `budget` entries from the old table into the current one. Taking the entry at drainAt out
   * by backward shift can only pull later entries into drainAt (every entry below it is empty, so no probe
   * run wraps past it), so the scan never misses one.
   */
  private drain(budget: number): void {
    const old = this.oldKeys!;
    const oldVals = this.oldVals;
    const oldMask = this.oldMask;
    let moved = 0;
    let i = this.drainAt;
    while (moved < budget) {
      const k = old[i << 1]!;
      if (k === EMPTY) {
        i++;
        continue;
      }
      const v = oldVals[(i << 2) | 2]!;
      removeAt(old, oldVals, oldMask, i);
      this.insertNew(k, v);
      moved++;
      if (--this.oldUsed === 0) {
        this.oldKeys = null;
        this.oldVals = new Int32Array(0);
        return;
      }
    }
    this.drainAt = i;
  }

  /** Inserts a stored key (key + 1) absent from both tables into the current table, with value v. */
  private insertNew(stored: number, v: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = slotOf(stored - 1, mask);
    while (keys[i << 1] !== EMPTY) i = (i + 1) & mask;
    keys[i << 1] = stored;
    this.vals[(i << 2) | 2] = v;
    this.used++;
  }
}
