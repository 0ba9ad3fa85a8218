//! Products of two activation matrices (attention scores, attention-weighted values).

/// `batch` products `A_b (m × k) · B_b (k × n)`, both operands activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatMul {
    /// Number of independent products.
    pub batch: usize,
    /// Rows of `A`.
    pub m: usize,
    /// Columns of `A`, rows of `B`.
    pub k: usize,
    /// Columns of `B`.
    pub n: usize,
}

impl MatMul {
    /// Float evaluation on flat row-major operands.
    pub fn eval(&self, a: &[f32], b: &[f32]) -> Vec<f32> {
        let MatMul { batch, m, k, n } = *self;
        let mut out = Vec::with_capacity(batch * m * n);
        for t in 0..batch {
            for i in 0..m {
                for j in 0..n {
                    out.push(
                        (0..k)
                            .map(|l| {
                                a.get(t * m * k + i * k + l).copied().unwrap_or(0.0)
                                    * b.get(t * k * n + l * n + j).copied().unwrap_or(0.0)
                            })
                            .sum(),
                    );
                }
            }
        }
        out
    }
}
