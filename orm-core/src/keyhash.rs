//! The hash of the identity map's keys ([`MapKey`](crate::model::MapKey)): integer keys that
//! are close get buckets that are close, so that reading many rows in key order (the usual
//! order of a large read) walks the map's table rather than jumping around it.
//!
//! A hash table of a million rows is larger than the CPU's caches, and with a hash that sends
//! each key to a random bucket every row read costs a cache miss (and a TLB miss) in it: the
//! cost per row of a tracked read grew about 2x from ten thousand rows to a million. Here an
//! integer key `k` is split into a block `k >> 3` and an offset `k & 7` in it: the block's
//! place in the table comes from the seeded [`foldhash`] hash of the block number, and the
//! eight keys of a block take eight adjacent buckets (in an order the block's hash turns). Blocks land at random, seeded places,
//! so keys chosen to collide (all multiples of a power of two, say) collide no more than
//! random keys do, as with foldhash alone; only keys of one block are adjacent, and they never
//! collide with each other. The 7-bit tag the table compares first (the hash's top bits)
//! differs between the keys of a block.
//!
//! Every other key (several columns, text, UUID) is hashed by foldhash as it is.

use std::hash::{BuildHasher, Hasher};

/// Keys per block: adjacent buckets (8 x 64 bytes: one or two cache lines per key, read in
/// order). A table probe looks at 16 buckets, so a block whose place a block already took
/// still finds free buckets in the first probe, mostly.
const BLOCK_BITS: u32 = 3;
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
/// spaced by eight or more (each alone in its block) do not all take the first place.
fn near(block: u64, i: i64) -> u64 {
    let turn = block >> 32;
    let place = u64::from_ne_bytes(i.to_ne_bytes()).wrapping_add(turn) & ((1 << BLOCK_BITS) - 1);
    let buckets = ((block << BLOCK_BITS) | place) & ((1 << TAG_SHIFT) - 1);
    // 37 is odd, so the eight places give eight different tags (mod 128).
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
            let hashes: Vec<u64> = (0..8).map(|j| hash(&s, base + j)).collect();
            // The eight buckets of one aligned run of eight, each once.
            let mut buckets: Vec<u64> = hashes.iter().map(|h| h & ((1 << TAG_SHIFT) - 1)).collect();
            buckets.sort_unstable();
            for (j, b) in (0_u64..).zip(&buckets) {
                assert_eq!(*b, (buckets[0] & !7) + j, "block {block}");
            }
            let mut tags: Vec<u64> = hashes.iter().map(|h| h >> TAG_SHIFT).collect();
            tags.sort_unstable();
            tags.dedup();
            assert_eq!(tags.len(), 8, "block {block}: a tag per place");
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
            // Random placement of 4,096 keys (in blocks of up to 8) over 8,192 buckets.
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
