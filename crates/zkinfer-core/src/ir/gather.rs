//! Gathers: outputs picked from input values or constants. Transpose, Concat, Slice, Pad and
//! broadcasting all lower to one; the circuit proves them by wiring alone.

/// Where one output value comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Entry {
    /// Value `index` of the node's input `input`.
    Value {
        /// Position in the node's inputs.
        input: usize,
        /// Flat index into that input.
        index: usize,
    },
    /// A constant.
    Const(f32),
}

/// A gather op.
#[derive(Clone, Debug, PartialEq)]
pub struct Gather {
    /// One entry per output value, row-major.
    pub entries: Vec<Entry>,
    /// Output shape.
    pub shape: Vec<usize>,
}

impl Gather {
    /// Reads every input `input` value `i` in order: the identity map of one input.
    pub fn identity(len: usize, shape: Vec<usize>) -> Self {
        Gather {
            entries: (0..len)
                .map(|index| Entry::Value { input: 0, index })
                .collect(),
            shape,
        }
    }

    /// The transpose of the leading two axes of input 0, a `[rows, cols, inner]` tensor: output
    /// `[cols, rows, inner]`.
    pub fn transposed(rows: usize, cols: usize, inner: usize) -> Self {
        Gather {
            entries: (0..rows * cols * inner)
                .map(|o| {
                    let (j, i, k) = (o / (rows * inner), (o / inner) % rows, o % inner);
                    Entry::Value {
                        input: 0,
                        index: (i * cols + j) * inner + k,
                    }
                })
                .collect(),
            shape: vec![cols, rows, inner],
        }
    }

    /// Whether every entry reads an existing input value.
    pub fn fits(&self, input_lens: &[usize]) -> bool {
        self.entries.len() == self.shape.iter().product::<usize>()
            && self.entries.iter().all(|e| match e {
                Entry::Value { input, index } => input_lens.get(*input).is_some_and(|n| index < n),
                Entry::Const(c) => c.is_finite(),
            })
    }

    /// Largest absolute constant.
    pub fn max_const(&self) -> f64 {
        self.entries
            .iter()
            .map(|e| match e {
                Entry::Const(c) => (*c as f64).abs(),
                Entry::Value { .. } => 0.0,
            })
            .fold(0.0, f64::max)
    }

    /// Float evaluation.
    pub fn eval(&self, inputs: &[&[f32]]) -> Vec<f32> {
        self.entries
            .iter()
            .map(|e| match *e {
                Entry::Value { input, index } => inputs
                    .get(input)
                    .and_then(|v| v.get(index))
                    .copied()
                    .unwrap_or(0.0),
                Entry::Const(c) => c,
            })
            .collect()
    }
}

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The multi-index of flat index `flat` in `shape`.
pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (d, n) in shape.iter().enumerate().rev() {
        if *n > 0 {
            idx[d] = flat % n;
            flat /= n;
        }
    }
    idx
}

/// The flat index of `idx` under `strides`.
pub fn ravel(idx: &[usize], strides: &[usize]) -> usize {
    idx.iter().zip(strides).map(|(i, s)| i * s).sum()
}

/// Numpy broadcast of two shapes, or `None` if they do not broadcast.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| (i + s.len()).checked_sub(n).map(|j| s[j]).unwrap_or(1);
    (0..n)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// For every index of `to`, the flat index of the `from` value numpy broadcasting reads.
pub fn broadcast_indices(from: &[usize], to: &[usize]) -> Vec<usize> {
    let st = strides(from);
    let lead = to.len() - from.len().min(to.len());
    (0..to.iter().product::<usize>())
        .map(|flat| {
            let idx = unravel(flat, to);
            idx[lead..]
                .iter()
                .zip(from)
                .zip(&st)
                .map(|((i, n), s)| if *n == 1 { 0 } else { i * s })
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape(&[3, 1], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shape(&[2, 3], &[4]), None);
        assert_eq!(broadcast_indices(&[3, 1], &[3, 2]), vec![0, 0, 1, 1, 2, 2]);
        assert_eq!(broadcast_indices(&[2], &[2, 2]), vec![0, 1, 0, 1]);
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        let t = Gather::transposed(2, 3, 1);
        assert_eq!(
            t.eval(&[&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]),
            vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
        assert_eq!(ravel(&[1, 2], &strides(&[2, 3])), 5);
    }
}
