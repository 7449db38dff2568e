// Open-addressing hash map from non-negative safe integers to objects (linear probing, backward-shift
// deletion, no tombstones). Keys live in a Float64Array, so lookups allocate nothing and the table never
// shrinks: unlike a JS Map under heavy insert/delete churn it causes no rehash garbage on the hot path.
//
// Growth is incremental: when the table reaches half load a table twice the size becomes the target of all
// inserts and the old one is drained a few entries per set/delete (each drained entry is taken out of the
// old table by backward-shift deletion, so lookups in it stay correct), so no single operation rehashes
// the whole map (with 100k+ resting orders that was a stall of milliseconds). Iteration order stays
// unspecified; the contents and every result are the same as with an all-at-once rehash.
// Values live in a dense array of entries (reused through a free list) and a table slot holds the entry's
// index in an Int32Array, so starting a growth allocates typed arrays only: filling a JS array of a million
// slots with undefined took tens of milliseconds, far more than the rehash it replaced. Keys are stored
// plus one so that 0 marks an empty slot and a new table needs no fill (zeroed memory is cheap to get).

/** Empty slot; an occupied slot holds key + 1 (exact: keys are safe integers, so key + 1 <= 2^53). */
const EMPTY = 0;
const MAX_KEY = Number.MAX_SAFE_INTEGER;
const TWO_32 = 4294967296;
/** Old-table entries moved per set/delete while growing: drains well before the new table is half full. */
const DRAIN_PER_OP = 4;

function slotOf(key: number, mask: number): number {
  const lo = key >>> 0;
  const hi = key >= TWO_32 ? (key / TWO_32) >>> 0 : 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h & mask;
}

/** Index of key in the table, or -1 (key must be a non-negative safe integer). */
function find(keys: Float64Array, mask: number, key: number): number {
  const stored = key + 1;
  let i = slotOf(key, mask);
  for (;;) {
    const k = keys[i]!;
    if (k === stored) return i;
    if (k === EMPTY) return -1;
    i = (i + 1) & mask;
  }
}

/** Removes the entry at slot i (backward-shift: later members of the probe run move into the hole). */
function removeAt(keys: Float64Array, vals: Int32Array, mask: number, i0: number): void {
  let i = i0;
  let j = i;
  for (;;) {
    j = (j + 1) & mask;
    const k = keys[j]!;
    if (k === EMPTY) break;
    const home = slotOf(k - 1, mask);
    // Entry at j may fill hole i iff home is not cyclically in (i, j].
    if (i <= j ? home <= i || home > j : home <= i && home > j) {
      keys[i] = k;
      vals[i] = vals[j]!;
      i = j;
    }
  }
  keys[i] = EMPTY;
}

export class NumMap<V> {
  private keys: Float64Array;
  /** Entry index (into values) of each occupied slot of keys. */
  private slots: Int32Array;
  private mask: number;
  /** Entries in the current table. */
  private used = 0;
  /** Table being drained while growing (null when not growing); its entries are not in the current table. */
  private oldKeys: Float64Array | null = null;
  private oldSlots: Int32Array = new Int32Array(0);
  private oldMask = 0;
  private oldUsed = 0;
  /** Every old slot below this index is empty. */
  private drainAt = 0;
  /** Values by entry index; free entries hold undefined and are listed in free. */
  private readonly values: (V | undefined)[] = [];
  private readonly free: number[] = [];

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.keys = new Float64Array(cap);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.used + this.oldUsed;
  }

  /** undefined when absent (also for keys that are not non-negative safe integers). */
  get(key: number): V | undefined {
    // Also keeps 2^53 (whose + 1 rounds to 2^53) from matching 2^53 - 1, and -1 from matching an empty slot.
    if (!(key >= 0 && key <= MAX_KEY)) return undefined;
    const keys = this.keys;
    const mask = this.mask;
    const stored = key + 1;
    let i = slotOf(key, mask);
    for (;;) {
      const k = keys[i]!;
      if (k === stored) return this.values[this.slots[i]!];
      if (k === EMPTY) break;
      i = (i + 1) & mask;
    }
    const old = this.oldKeys;
    if (old === null) return undefined;
    const j = find(old, this.oldMask, key);
    return j < 0 ? undefined : this.values[this.oldSlots[j]!];
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  /** Insert or replace. key must be a non-negative safe integer. */
  set(key: number, value: V): void {
    if (this.oldKeys !== null) {
      const j = find(this.oldKeys, this.oldMask, key);
      if (j >= 0) {
        this.values[this.oldSlots[j]!] = value;
        return;
      }
      this.drain(DRAIN_PER_OP);
    }
    if ((this.used + 1) * 2 > this.keys.length) {
      // Not reached while growing (the drain finishes long before), but never let two growths overlap.
      if (this.oldKeys !== null) this.drain(Infinity);
      this.grow();
    }
    const keys = this.keys;
    const mask = this.mask;
    const stored = key + 1;
    let i = slotOf(key, mask);
    for (;;) {
      const k = keys[i]!;
      if (k === EMPTY) {
        keys[i] = stored;
        const e = this.free.pop();
        if (e === undefined) {
          this.slots[i] = this.values.length;
          this.values.push(value);
        } else {
          this.slots[i] = e;
          this.values[e] = value;
        }
        this.used++;
        return;
      }
      if (k === stored) {
        this.values[this.slots[i]!] = value;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  delete(key: number): boolean {
    if (!(key >= 0 && key <= MAX_KEY)) return false;
    const i = find(this.keys, this.mask, key);
    if (i >= 0) {
      this.release(this.slots[i]!);
      removeAt(this.keys, this.slots, this.mask, i);
      this.used--;
      if (this.oldKeys !== null) this.drain(DRAIN_PER_OP);
      return true;
    }
    const old = this.oldKeys;
    if (old === null) return false;
    const j = find(old, this.oldMask, key);
    if (j < 0) return false;
    this.release(this.oldSlots[j]!);
    removeAt(old, this.oldSlots, this.oldMask, j);
    if (--this.oldUsed === 0) this.oldKeys = null;
    else this.drain(DRAIN_PER_OP);
    return true;
  }

  /** Calls fn for every entry (order is unspecified: never use it for anything deterministic). */
  forEach(fn: (value: V, key: number) => void): void {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k !== EMPTY) fn(this.values[this.slots[i]!]!, k - 1);
    }
    const old = this.oldKeys;
    if (old === null) return;
    for (let i = 0; i < old.length; i++) {
      const k = old[i]!;
      if (k !== EMPTY) fn(this.values[this.oldSlots[i]!]!, k - 1);
    }
  }

  private release(e: number): void {
    this.values[e] = undefined;
    this.free.push(e);
  }

  /** Starts growing: the current table (at half load) becomes the old one, to be drained into a new one. */
  private grow(): void {
    const cap = this.keys.length * 2;
    this.oldKeys = this.keys;
    this.oldSlots = this.slots;
    this.oldMask = this.mask;
    this.oldUsed = this.used;
    this.drainAt = 0;
    this.keys = new Float64Array(cap);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.used = 0;
  }

  /**
   * Moves up to `budget` entries from the old table into the current one (their entry indices stay). Taking
   * the entry at drainAt out by backward shift can only pull later entries into drainAt (every slot below it
   * is empty, so no probe run wraps past it), so the scan never misses one.
   */
  private drain(budget: number): void {
    const old = this.oldKeys!;
    const oldSlots = this.oldSlots;
    const oldMask = this.oldMask;
    let moved = 0;
    let i = this.drainAt;
    while (moved < budget) {
      const k = old[i]!;
      if (k === EMPTY) {
        i++;
        continue;
      }
      const e = oldSlots[i]!;
      removeAt(old, oldSlots, oldMask, i);
      this.insertNew(k, e);
      moved++;
      if (--this.oldUsed === 0) {
        this.oldKeys = null;
        this.oldSlots = new Int32Array(0);
        return;
      }
    }
    this.drainAt = i;
  }

  /** Inserts a stored key (key + 1) absent from both tables into the current table, with entry index e. */
  private insertNew(stored: number, e: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = slotOf(stored - 1, mask);
    while (keys[i] !== EMPTY) i = (i + 1) & mask;
    keys[i] = stored;
    this.slots[i] = e;
    this.used++;
  }
}
