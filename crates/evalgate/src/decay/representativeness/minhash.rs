//! MinHash signatures of shingle sets, the similarity they estimate, and the band keys
//! that let locality-sensitive hashing find similar signatures without comparing all pairs.
//!
//! Parameters, and why: [`HASHES`] = 120 minimum hashes estimate a Jaccard similarity of
//! 0.3 with a standard error of √(0.3·0.7/120) ≈ 0.04, enough to discard most candidates
//! before measuring them exactly ([`super::jaccard`]); each hash costs one multiply per
//! shingle, and 120 × ~25 shingles take about 1.5 µs per message. They split into
//! [`BANDS`] = 40 bands of [`ROWS`] = 3: two texts become candidates when one band agrees
//! entirely, which happens with probability 1 − (1 − s³)⁴⁰ for similarity s: 0.04 at
//! s = 0.1, 0.28 at 0.2, 0.66 at 0.3, 0.93 at 0.4, 0.99 at 0.5. Two rows per band would find
//! almost every pair at 0.3 but also half the pairs at 0.1 — with 10,000 cases, thousands
//! of candidates per input — and four rows would miss most pairs at 0.4. An input usually
//! resembles several cases, so the chance that none of them is found is much lower than
//! for one pair.

use super::text::{Shingle, mix};

/// Minimum hashes per signature.
pub(crate) const HASHES: usize = BANDS * ROWS;
/// Bands of the signature used as LSH keys.
pub(crate) const BANDS: usize = 40;
/// Minimum hashes per band.
pub(crate) const ROWS: usize = 3;

/// The minimum of each of the [`HASHES`] hash functions over a text's shingles.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature([u32; HASHES]);

/// The low byte of each position of a [`Signature`] (b-bit MinHash, b = 8): a quarter of
/// the memory, so comparing an input with its candidate cases reads 2 cache lines per
/// case instead of 8. Two different minimums share their low byte once in 256, which
/// raises an estimate by at most 0.004: nothing next to the margin it is used with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint([u8; HASHES]);

/// What the search needs of a text's signature: the keys of its bands, to look up the
/// texts that share one, and its fingerprint, to estimate a similarity before measuring it.
#[derive(Debug, Clone)]
pub(crate) struct Sketch {
    pub(crate) band_keys: [u64; BANDS],
    pub(crate) fingerprint: Fingerprint,
}

// Counts of shared positions are kept in a byte.
const _: () = assert!(HASHES <= u8::MAX as usize);

/// How many of the [`HASHES`] positions two signatures share: an estimate of the Jaccard
/// similarity of their shingle sets, kept as a count so that comparing it with a
/// threshold is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Estimate(u16);

impl Estimate {
    /// The least similarity at or above `threshold` (in 0..=1).
    pub(crate) fn at_least(threshold: f64) -> Estimate {
        // The small slack keeps 0.3 × 120 = 36 from rounding up to 37.
        let positions = (threshold * HASHES as f64 - 1e-9)
            .ceil()
            .clamp(0.0, HASHES as f64);
        Estimate(positions as u16)
    }

    /// The Jaccard estimate, in 0..=1.
    #[cfg(test)]
    fn value(self) -> f64 {
        f64::from(self.0) / HASHES as f64
    }
}

/// The hash functions: h(x) = the high 32 bits of (a·x + b) mod 2⁶⁴ with odd a, the
/// multiply-add-shift family, over shingle hashes that are already well mixed. The
/// constants come from a fixed seed, so signatures are the same on every run and machine.
#[derive(Debug)]
pub(crate) struct MinHasher {
    multipliers: [u64; HASHES],
    increments: [u64; HASHES],
}

impl MinHasher {
    pub(crate) fn new() -> MinHasher {
        let mut state: u64 = 0x5eed_0fe7_a19a_7e00;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            mix(state)
        };
        let mut multipliers = [0; HASHES];
        let mut increments = [0; HASHES];
        for (a, b) in multipliers.iter_mut().zip(&mut increments) {
            *a = next() | 1;
            *b = next();
        }
        MinHasher {
            multipliers,
            increments,
        }
    }

    /// The sketch of a set of shingle hashes. An empty set (a text without words) gets
    /// the same sketch as every other empty set.
    pub(crate) fn sketch(&self, shingles: &[Shingle]) -> Sketch {
        let signature = self.signature(shingles);
        Sketch {
            band_keys: std::array::from_fn(|band| signature.band_key(band)),
            fingerprint: signature.fingerprint(),
        }
    }

    /// The signature of a set of shingle hashes (repeats allowed); all positions at their
    /// maximum for an empty set.
    fn signature(&self, shingles: &[Shingle]) -> Signature {
        let mut minimums = [u32::MAX; HASHES];
        // Positions outside, shingles inside, a few positions at a time: the running
        // minimums stay in registers instead of being loaded and stored for every shingle
        // (a third faster, measured).
        for ((minimums, a), b) in minimums
            .chunks_exact_mut(LANES)
            .zip(self.multipliers.chunks_exact(LANES))
            .zip(self.increments.chunks_exact(LANES))
        {
            let mut lanes = [u32::MAX; LANES];
            for &shingle in shingles {
                // 32 bits wide, the multiply needs no high half of the shingle.
                let shingle = u64::from(shingle);
                for k in 0..LANES {
                    let hash = (shingle.wrapping_mul(a[k]).wrapping_add(b[k]) >> 32) as u32;
                    lanes[k] = lanes[k].min(hash);
                }
            }
            minimums.copy_from_slice(&lanes);
        }
        Signature(minimums)
    }
}

/// Positions of the signature computed together.
const LANES: usize = 8;
const _: () = assert!(HASHES.is_multiple_of(LANES));

impl Signature {
    fn fingerprint(&self) -> Fingerprint {
        Fingerprint(self.0.map(|minimum| minimum as u8))
    }

    /// The key of band `band` (< [`BANDS`]): equal for two signatures exactly when that
    /// band's [`ROWS`] positions are, but for hash collisions; the band number is mixed in
    /// so one table can hold every band.
    fn band_key(&self, band: usize) -> u64 {
        let rows = &self.0[band * ROWS..(band + 1) * ROWS];
        rows.iter()
            .fold(mix(band as u64 + 1), |key, &row| mix(key ^ u64::from(row)))
    }
}

impl Fingerprint {
    /// The estimated similarity: the share of positions with the same byte.
    pub(crate) fn similarity(&self, other: &Fingerprint) -> Estimate {
        let shared = self
            .0
            .iter()
            .zip(&other.0)
            .fold(0u8, |n, (a, b)| n + u8::from(a == b));
        Estimate(u16::from(shared))
    }
}

/// A `HashMap` hasher for keys that are already uniform hashes (band keys): passes them
/// through instead of hashing them again with SipHash.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PrehashedKey(u64);

impl std::hash::Hasher for PrehashedKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with this; other writes still hash deterministically.
        for &b in bytes {
            self.0 = mix(self.0 ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// The `BuildHasher` of maps keyed by band keys.
pub(crate) type BandKeyHasher = std::hash::BuildHasherDefault<PrehashedKey>;

#[cfg(test)]
mod tests {
    use super::*;

    fn shingles(range: std::ops::Range<u64>) -> Vec<Shingle> {
        range.map(|i| mix(i) as Shingle).collect()
    }

    fn estimate(a: &[Shingle], b: &[Shingle]) -> f64 {
        let hasher = MinHasher::new();
        let (a, b) = (hasher.sketch(a), hasher.sketch(b));
        a.fingerprint.similarity(&b.fingerprint).value()
    }

    #[test]
    fn identical_sets_have_similarity_one_and_disjoint_sets_about_zero() {
        assert_eq!(estimate(&shingles(0..30), &shingles(0..30)), 1.0);
        let disjoint = estimate(&shingles(0..30), &shingles(100..130));
        assert!(disjoint < 0.05, "{disjoint}");
    }

    #[test]
    fn the_estimate_is_near_the_jaccard_similarity() {
        // 0..40 and 20..60 share 20 of 60: Jaccard 1/3.
        let estimate = estimate(&shingles(0..40), &shingles(20..60));
        assert!((estimate - 1.0 / 3.0).abs() < 0.12, "{estimate}");
    }

    #[test]
    fn fingerprints_estimate_as_signatures_do_but_for_rare_byte_collisions() {
        let hasher = MinHasher::new();
        let (a, b) = (
            hasher.signature(&shingles(0..40)),
            hasher.signature(&shingles(20..60)),
        );
        let full = a.0.iter().zip(&b.0).filter(|(x, y)| x == y).count() as f64 / HASHES as f64;
        let bytes = a.fingerprint().similarity(&b.fingerprint()).value();
        assert!(
            bytes >= full && bytes - full <= 3.0 / HASHES as f64,
            "{full} {bytes}"
        );
    }

    #[test]
    fn the_threshold_converts_to_positions_without_rounding_up() {
        assert_eq!(Estimate::at_least(0.3), Estimate(36));
        assert_eq!(Estimate::at_least(1.0), Estimate(HASHES as u16));
        assert_eq!(Estimate::at_least(0.301), Estimate(37));
        assert_eq!(Estimate::at_least(-0.5), Estimate(0));
    }

    #[test]
    fn texts_without_words_share_one_sketch_and_bands_have_their_own_keys() {
        let hasher = MinHasher::new();
        let (empty, also_empty) = (hasher.sketch(&[]), hasher.sketch(&[]));
        assert_eq!(empty.band_keys, also_empty.band_keys);
        assert_ne!(empty.band_keys[0], empty.band_keys[1]);
        assert_ne!(hasher.sketch(&shingles(0..1)).band_keys, empty.band_keys);
    }
}
