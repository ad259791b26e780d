//! The standard normal distribution: its CDF (a series near the centre, a continued
//! fraction in the tails, both to about 1e-15 relative) and its quantile (Acklam's rational
//! approximation, polished by one Halley step to a few ulps).

use std::f64::consts::{FRAC_1_SQRT_2, PI, SQRT_2};

/// Φ(x), the standard normal CDF (`pnorm` in R, `scipy.stats.norm.cdf`). Use it to turn a
/// z-score into a probability. Relative error below 1e-14 everywhere, in the lower tail
/// too (Φ(−37) ≈ 5.7e−300), so take an upper tail as `normal_cdf(-x)` rather than
/// `1 - normal_cdf(x)`.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < -1.0 {
        lower_tail(-x)
    } else if x > 1.0 {
        1.0 - lower_tail(x)
    } else {
        0.5 + centred_cdf(x)
    }
}

/// Φ⁻¹(p), the standard normal quantile (`qnorm` in R, `scipy.stats.norm.ppf`): the z of a
/// confidence level, e.g. `normal_quantile(0.975)` ≈ 1.959964 for a two-sided 95 % interval.
/// Accurate to a few ulps; −∞ at 0, +∞ at 1, NaN outside [0, 1].
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    // Work in the lower half, where Φ has full relative accuracy; 1 − p is exact for p ≥ ½.
    if p > 0.5 {
        return -normal_quantile(1.0 - p);
    }
    let x = acklam(p);
    // Acklam's approximation is good to 1.15e-9 relative; one Halley step on Φ(x) − p
    // (cubically convergent) takes it to the accuracy of Φ itself. Near the centre the
    // difference is formed as (Φ(x) − ½) − (p − ½), both accurate, so that quantiles close
    // to 0 keep their relative accuracy.
    let density = density(x);
    if density == 0.0 {
        return x;
    }
    let excess = if x.abs() <= 1.0 {
        centred_cdf(x) - (p - 0.5)
    } else {
        normal_cdf(x) - p
    };
    let u = excess / density;
    x - u / (1.0 + 0.5 * x * u)
}

/// Acklam's rational approximation of Φ⁻¹ for 0 < p ≤ ½ (relative error below 1.15e-9).
fn acklam(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    // Where the approximation switches from its tail to its central rational function.
    const P_LOW: f64 = 0.02425;
    if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Φ(x) − ½ for |x| ≤ 1, from the series of erf(x/√2), with full relative accuracy.
fn centred_cdf(x: f64) -> f64 {
    let y = (x * FRAC_1_SQRT_2).abs();
    // erf(y) = (2/√π) e^(−y²) Σₙ 2ⁿ y^(2n+1) / (1·3·…·(2n+1)): all terms positive, so
    // nothing cancels (unlike the alternating Maclaurin series).
    let two_y2 = 2.0 * y * y;
    let mut term = y;
    let mut sum = y;
    let mut n = 0.0;
    while term > sum * 1e-17 {
        n += 1.0;
        term *= two_y2 / (2.0 * n + 1.0);
        sum += term;
    }
    // ½·erf(y) = φ(x)·√(2π)·sum/√π.
    x.signum() * density(x) * SQRT_2 * sum
}

/// Φ(−t) for t ≥ 1: φ(t)/K(t), with K(t) = t + 1/(t + 2/(t + 3/(t + …))) (Laplace's
/// continued fraction for the Mills ratio) by the modified Lentz algorithm: about 400
/// terms at t = 1, 30 at t = 5, fewer beyond.
fn lower_tail(t: f64) -> f64 {
    const TINY: f64 = 1e-300;
    if t > 40.0 {
        // Φ(−40) ≈ 3.7e−350: below the smallest subnormal.
        return 0.0;
    }
    let mut f = t;
    let mut c = t;
    let mut d = 0.0;
    for n in 1..2_000 {
        let a = f64::from(n);
        d = t + a * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = t + a / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    density(t) / f
}

/// φ(x) = e^(−x²/2)/√(2π), without the rounding of x² blowing up in the tail: x is split
/// into a head with 21 significant bits (whose square is exact) and a small remainder.
fn density(x: f64) -> f64 {
    let head = f64::from_bits(x.to_bits() & 0xffff_ffff_0000_0000);
    let half_square_head = 0.5 * head * head;
    let half_square_rest = 0.5 * (x - head) * (x + head);
    (-half_square_head).exp() * (-half_square_rest).exp() / (2.0 * PI).sqrt()
}

#[cfg(test)]
// References keep every digit their source printed, more than an f64 holds.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::stats::approx::assert_close;

    /// R: `qnorm(0.975)` = 1.959963984540054. The rest are mpmath at 50 digits,
    /// `mp.findroot(lambda x: mp.ncdf(x) - p, scipy.special.ndtri(p))`; scipy's `ndtri` and
    /// R's `qnorm` agree with them to the digits they print.
    #[test]
    fn normal_quantile_matches_r_and_mpmath() {
        assert_close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-15);
        assert_close(normal_quantile(0.025), -1.959_963_984_540_054, 1e-15);
        let references = [
            (1e-300, -37.047_096_299_361_199_237),
            (1e-20, -9.262_340_089_798_407_573_7),
            (1e-10, -6.361_340_902_404_056_204_7),
            (0.001, -3.090_232_306_167_813_541_5),
            (0.024_25, -1.972_961_051_311_884_850_3),
            (0.3, -0.524_400_512_708_040_784_04),
            (0.7, 0.524_400_512_708_040_784_04),
            (0.999, 3.090_232_306_167_813_541_5),
        ];
        for (p, x) in references {
            assert_close(normal_quantile(p), x, 1e-14);
        }
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    /// mpmath at 40 digits, `mp.ncdf(x)`; R's `pnorm(-8)` = 6.220961e-16 and
    /// `pnorm(-37)` = 5.725571e-300 agree.
    #[test]
    fn normal_cdf_matches_mpmath_far_into_the_tail() {
        let references = [
            (-37.0, 5.725_571_222_524_576_822_7e-300),
            (-20.0, 2.753_624_118_606_233_695_1e-89),
            (-8.0, 6.220_960_574_271_784_123_5e-16),
            (-3.0, 0.001_349_898_031_630_094_526_7),
            (-1.0, 0.158_655_253_931_457_051_41),
            (-0.5, 0.308_537_538_725_986_896_36),
            (0.0, 0.5),
            (0.5, 0.691_462_461_274_013_103_64),
            (1.5, 0.933_192_798_731_141_934),
            (3.0, 0.998_650_101_968_369_905_47),
        ];
        for (x, p) in references {
            assert_close(normal_cdf(x), p, 1e-14);
        }
    }

    #[test]
    fn normal_quantile_inverts_normal_cdf() {
        for i in 1..1_000 {
            let p = f64::from(i) / 1_000.0;
            assert_close(normal_cdf(normal_quantile(p)), p, 1e-14);
        }
        // In the tail one ulp of x moves Φ(x) by about x²·ε relative: that much slack is
        // the rounding of x, not an error of either function.
        for exponent in 1..300 {
            let p = 10f64.powi(-exponent);
            let x = normal_quantile(p);
            assert_close(normal_cdf(x), p, 1e-14 + 2.0 * f64::EPSILON * x * x);
        }
    }

    #[test]
    fn normal_functions_handle_their_edges() {
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(-0.1).is_nan());
        assert!(normal_quantile(1.1).is_nan());
        assert!(normal_quantile(f64::NAN).is_nan());
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(normal_cdf(-50.0), 0.0);
        assert!(normal_cdf(f64::NAN).is_nan());
    }
}
