//! A deterministic uniform source for the simulation checks of the tests (this crate's and
//! the command line's): the same seed
//! gives the same draws on every machine.

/// xorshift64* (Vigna).
pub struct XorShift(pub u64);

impl XorShift {
    /// A uniform number in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1_u64 << 53) as f64
    }

    /// How many of `n` draws fall below `rate`.
    pub fn passes(&mut self, n: u32, rate: f64) -> u32 {
        (0..n).filter(|_| self.uniform() < rate).count() as u32
    }
}
