//! The hash of the identity map's keys ([`MapKey`](crate::model::MapKey)): integer keys that
//! are close get buckets that are close, so that reading many rows in key order (the usual
//! order of a large read) walks the map's table rather than jumping around it.
//!
//! A hash table of a million rows is larger than the CPU's caches, and with a hash that sends
//! each key to a random bucket every row read costs a cache miss and a TLB miss in it: the
//! cost per row of a tracked read grew about 2x from ten thousand rows to a million. Here an
//! integer key `k` is split into a block `k >> 8` and an offset `k & 255` in it: the block's
//! place in the table comes from the seeded [`foldhash`] hash of the block number, and the 256
//! keys of a block take 256 adjacent buckets (16 KB, in an order the block's hash turns).
//! Blocks land at random, seeded places, so keys chosen to collide (all multiples of a power
//! of two, say) collide no more than random keys do, as with foldhash alone; only keys of one
//! block are adjacent, and they never collide with each other. The 7-bit tag the table
//! compares first (the hash's top bits) differs between any 128 consecutive places of a
//! block, so a probe (16 buckets) never meets two keys of its block with its tag.
//!
//! Measured in a table of a million 48-byte entries, inserting keys 1..=1,000,000 in order
//! costs 31 ns a key against 72 with foldhash, and looking them up 12 ns against 21; keys
//! spaced apart or random insert as fast as with foldhash (a tight loop looks them up about
//! 10 ns slower: more instructions per lookup leave fewer cache misses in flight). At 917,000
//! keys (the table 7/8 full) the same holds.
//!
//! Every other key (several columns, text, UUID) is hashed by foldhash as it is.

use std::hash::{BuildHasher, Hasher};

/// Keys per block (256): adjacent buckets, four pages of 64-byte buckets. A block whose place
/// another block took goes on to the next free buckets, which the table's probe finds as it
/// would for any colliding keys (measured: a table 7/8 full of consecutive keys is not slower
/// per key than one half full).
const BLOCK_BITS: u32 = 8;
/// The hash bits a table uses for its 7-bit tag (hashbrown's `h2`: the top seven).
const TAG_SHIFT: u32 = 57;

/// The [`BuildHasher`] of the identity maps: seeded per process and map, as foldhash's.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KeyState(foldhash::fast::RandomState);

impl BuildHasher for KeyState {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher { fold: self.0.build_hasher(), int: None, more: false }
    }
}

/// Hashes one key: a lone `write_i64` (an integer [`MapKey`](crate::model::MapKey)) by
/// [`near`], anything else by foldhash.
#[derive(Clone)]
pub(crate) struct KeyHasher {
    /// Foldhash, fed every write but a first `write_i64` while it is the only one.
    fold: foldhash::fast::FoldHasher,
    /// A first write that was an integer, held back until another write or `finish`.
    int: Option<i64>,
    /// Whether any write came after the first (or the first was not an integer).
    more: bool,
}

impl KeyHasher {
    /// Another write than a lone integer: foldhash takes the integer held back first.
    fn not_alone(&mut self) {
        if let Some(i) = self.int.take() {
            self.fold.write_i64(i);
        }
        self.more = true;
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.not_alone();
        self.fold.write(bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.not_alone();
        self.fold.write_u8(i);
    }

    fn write_u32(&mut self, i: u32) {
        self.not_alone();
        self.fold.write_u32(i);
    }

    fn write_u64(&mut self, i: u64) {
        self.not_alone();
        self.fold.write_u64(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.not_alone();
        self.fold.write_usize(i);
    }

    fn write_i64(&mut self, i: i64) {
        if self.more || self.int.is_some() {
            self.not_alone();
            self.fold.write_i64(i);
        } else {
            self.int = Some(i);
        }
    }

    fn finish(&self) -> u64 {
        match (self.int, self.more) {
            (Some(i), false) => {
                let mut block = self.fold.clone();
                block.write_u64(u64::from_ne_bytes(i.to_ne_bytes()) >> BLOCK_BITS);
                near(block.finish(), i)
            }
            _ => self.fold.finish(),
        }
    }
}

/// The hash of integer key `i` whose block hashed to `block`: the block's bucket bits with the
/// key's place in the block below them, and a tag that differs for each place. The places of a
/// block's keys are its keys' offsets turned by a number of the block's hash, so that keys
/// spaced by 256 or more (each alone in its block) do not all take the first place.
fn near(block: u64, i: i64) -> u64 {
    let turn = block >> 32;
    let place = u64::from_ne_bytes(i.to_ne_bytes()).wrapping_add(turn) & ((1 << BLOCK_BITS) - 1);
    let buckets = ((block << BLOCK_BITS) | place) & ((1 << TAG_SHIFT) - 1);
    // 37 is odd, so any 128 consecutive places give 128 different tags (mod 128).
    let tag = ((block >> TAG_SHIFT) + place * 37) & 0x7f;
    buckets | (tag << TAG_SHIFT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MapKey;
    use crate::value::Value;
    use std::hash::BuildHasher;

    fn hash(s: &KeyState, k: i64) -> u64 {
        s.hash_one(MapKey::from_value(Value::Int(k)))
    }

    #[test]
    fn the_keys_of_a_block_take_adjacent_buckets_with_different_tags() {
        let s = KeyState::default();
        for block in [0_i64, 1, 12_345, -7, i64::MAX >> 3, i64::MIN >> 3] {
            let base = block << BLOCK_BITS;
            let width = 1_i64 << BLOCK_BITS;
            let hashes: Vec<u64> = (0..width).map(|j| hash(&s, base + j)).collect();
            // The buckets of one aligned run of 256, each once.
            let mut buckets: Vec<u64> = hashes.iter().map(|h| h & ((1 << TAG_SHIFT) - 1)).collect();
            buckets.sort_unstable();
            for (j, b) in (0_u64..).zip(&buckets) {
                assert_eq!(*b, (buckets[0] & !255) + j, "block {block}");
            }
            // The keys of one probe (16 adjacent buckets) have 16 different tags.
            let mut by_bucket: Vec<(u64, u64)> =
                hashes.iter().map(|h| (h & ((1 << TAG_SHIFT) - 1), h >> TAG_SHIFT)).collect();
            by_bucket.sort_unstable();
            for probe in by_bucket.windows(16) {
                let mut tags: Vec<u64> = probe.iter().map(|&(_, t)| t).collect();
                tags.sort_unstable();
                tags.dedup();
                assert_eq!(tags.len(), 16, "block {block}: a tag per place in a probe");
            }
        }
    }

    /// Keys spaced by any power of two (or by a multiple of the table's size) spread over
    /// the table as random keys do: no bucket holds more than a few of them.
    #[test]
    fn keys_spaced_by_a_power_of_two_do_not_pile_up() {
        let s = KeyState::default();
        let n: i64 = 4096;
        let buckets: u64 = 8192;
        for shift in 0..50 {
            let mut load = vec![0_u32; usize::try_from(buckets).unwrap_or(0)];
            for k in 0..n {
                let h = hash(&s, k << shift);
                load[usize::try_from(h % buckets).unwrap_or(0)] += 1;
            }
            let max = load.iter().copied().max().unwrap_or(0);
            // Random placement of 4,096 keys (in blocks of up to 256) over 8,192 buckets.
            assert!(max <= 12, "keys spaced by 2^{shift}: {max} in one bucket");
        }
    }

    #[test]
    fn other_keys_hash_as_foldhash_and_every_key_hashes_the_same_each_time() {
        let s = KeyState::default();
        let text = MapKey::from_values(vec![Value::Text("ann".into())]);
        let pair = MapKey::from_values(vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(s.hash_one(&text), s.hash_one(&text));
        assert_eq!(s.hash_one(&pair), s.hash_one(&pair));
        assert_ne!(
            s.hash_one(&pair),
            s.hash_one(MapKey::from_values(vec![Value::Int(2), Value::Int(1)]))
        );
        assert_eq!(hash(&s, 42), hash(&s, 42));
        // A map keyed by them finds each key.
        let mut m: std::collections::HashMap<MapKey, i64, KeyState> =
            std::collections::HashMap::with_hasher(s);
        for k in (0..10_000).map(|k| k * 1024 - 5_000) {
            m.insert(MapKey::from_value(Value::Int(k)), k);
        }
        m.insert(pair.clone(), -1);
        assert_eq!(m.len(), 10_001);
        assert!((0..10_000)
            .map(|k| k * 1024 - 5_000)
            .all(|k| m.get(&MapKey::from_value(Value::Int(k))) == Some(&k)));
        assert_eq!(m.get(&pair), Some(&-1));
    }
}
