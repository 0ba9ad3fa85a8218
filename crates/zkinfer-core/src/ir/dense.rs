//! The dense (fully connected) op.

/// `y = W x + b` with `W` stored row-major as `[outputs][inputs]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Length of the input vector.
    pub inputs: usize,
    /// Length of the output vector.
    pub outputs: usize,
    /// Weights, `outputs * inputs` values, row `j` holding the weights of output `j`.
    pub weights: Vec<f32>,
    /// Bias, `outputs` values.
    pub bias: Vec<f32>,
    /// Rows the layer is applied to (the input holds `batch * inputs` values).
    pub batch: usize,
}

impl Dense {
    /// Float evaluation on a flat input of `batch * inputs` values.
    pub fn eval(&self, x: &[f32]) -> Vec<f32> {
        x.chunks(self.inputs.max(1))
            .flat_map(|xr| {
                self.weights
                    .chunks(self.inputs.max(1))
                    .zip(&self.bias)
                    .map(move |(row, b)| row.iter().zip(xr).map(|(w, v)| w * v).sum::<f32>() + b)
            })
            .collect()
    }
}
