//! A tiny deterministic generator for bench data: the same seed gives the same data on every
//! machine, with no dependency.

pub struct XorShift(pub u64);

#[allow(dead_code)] // each bench uses what it needs
impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    /// An index below `n`, small ones more often.
    pub fn skewed(&mut self, n: usize) -> usize {
        let (a, b) = (self.next() % n as u64, self.next() % n as u64);
        a.min(b) as usize
    }
}
