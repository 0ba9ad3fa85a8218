//! Deterministic synthetic models and inputs for tests and benchmarks.

use crate::ir::{Dense, FloatLayer, LayerOp};
use crate::model::QuantModel;
use crate::quant::{calibrate, calibrate_with, Width};
use crate::CoreError;

pub mod forgery;

/// A small xorshift generator (not for cryptography).
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform float in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
    }
}

/// Random float layers `dims[0] -> dims[1] -> ...` with ReLU between them.
pub fn float_mlp(seed: u64, dims: &[usize]) -> Vec<FloatLayer> {
    let mut rng = XorShift::new(seed);
    dims.windows(2)
        .enumerate()
        .map(|(i, d)| {
            let scale = 1.0 / (d[0] as f32).sqrt();
            FloatLayer {
                name: format!("fc{i}"),
                op: LayerOp::Dense(Dense {
                    inputs: d[0],
                    outputs: d[1],
                    weights: (0..d[0] * d[1])
                        .map(|_| rng.uniform(-scale, scale))
                        .collect(),
                    bias: (0..d[1]).map(|_| rng.uniform(-0.1, 0.1)).collect(),
                    batch: 1,
                }),
                relu: i + 2 < dims.len(),
                function: None,
                sources: vec![i],
            }
        })
        .collect()
}

/// Random float samples in `[0, 1)`.
pub fn samples(seed: u64, count: usize, len: usize) -> Vec<Vec<f32>> {
    let mut rng = XorShift::new(seed);
    (0..count)
        .map(|_| (0..len).map(|_| rng.uniform(0.0, 1.0)).collect())
        .collect()
}

/// A calibrated random MLP (verifying-key fingerprint left empty).
pub fn quantized_mlp(seed: u64, dims: &[usize]) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    let layers = float_mlp(seed, dims);
    let data = samples(seed + 1, 8, dims[0]);
    let out = dims.last().copied().unwrap_or(0);
    let q = calibrate("random-mlp", &layers, &[1, dims[0]], &[1, out], &data)?;
    Ok((QuantModel::from_quantized(q)?, data))
}

/// A convolution over `window` with `out_channels` filters in `groups` channel groups:
/// weights uniform in ±1/√(weights per filter), biases in ±0.1, drawn from `rng` in that order.
fn random_conv(
    rng: &mut XorShift,
    window: crate::geometry::Window,
    out_channels: usize,
    groups: usize,
) -> crate::ir::Conv2d {
    let k = window.input[0] / groups * window.area();
    let scale = 1.0 / (k as f32).sqrt();
    crate::ir::Conv2d {
        window,
        out_channels,
        weights: (0..out_channels * k)
            .map(|_| rng.uniform(-scale, scale))
            .collect(),
        bias: (0..out_channels).map(|_| rng.uniform(-0.1, 0.1)).collect(),
        groups,
    }
}

/// A small random CNN: conv 3x3 (pad 1) → ReLU → max pool 2x2 → conv 3x3 stride 2 → ReLU →
/// average pool 2x2 → dense, on a `[1, 2, 8, 8]` input.
pub fn float_cnn(seed: u64) -> Vec<FloatLayer> {
    use crate::geometry::Window;
    use crate::ir::{Pool, PoolKind};
    let mut rng = XorShift::new(seed);
    let mut conv = |input: [usize; 3], co: usize, stride: usize, pad: usize| {
        let window = Window {
            input,
            kernel: [3, 3],
            stride: [stride; 2],
            pads: [pad; 4],
            dilation: [1, 1],
        };
        random_conv(&mut rng, window, co, 1)
    };
    let c1 = conv([2, 8, 8], 3, 1, 1);
    let c2 = conv([3, 4, 4], 4, 2, 1);
    let pool = |kind, input| Pool {
        kind,
        window: Window {
            input,
            kernel: [2, 2],
            stride: [2, 2],
            pads: [0; 4],
            dilation: [1, 1],
        },
        exclude_pad: false,
    };
    let mut dense_rng = XorShift::new(seed + 7);
    let dense = Dense {
        inputs: 4,
        outputs: 3,
        weights: (0..12).map(|_| dense_rng.uniform(-0.5, 0.5)).collect(),
        bias: vec![0.05, -0.05, 0.0],
        batch: 1,
    };
    let mut next_source = 0;
    let mut layer = |name: &str, op, relu| {
        next_source += 1;
        FloatLayer {
            sources: vec![next_source - 1],
            function: None,
            name: name.into(),
            op,
            relu,
        }
    };
    vec![
        layer("conv1", LayerOp::Conv2d(c1), true),
        layer(
            "pool1",
            LayerOp::Pool(pool(PoolKind::Max, [3, 8, 8])),
            false,
        ),
        layer("conv2", LayerOp::Conv2d(c2), true),
        layer(
            "pool2",
            LayerOp::Pool(pool(PoolKind::Average, [4, 2, 2])),
            false,
        ),
        layer("fc", LayerOp::Dense(dense), false),
    ]
}

/// A calibrated random CNN (see [`float_cnn`]).
pub fn quantized_cnn(seed: u64) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    quantized_cnn_width(seed, Width::Narrow)
}

/// A calibrated random CNN (see [`float_cnn`]) with activations of `width`.
pub fn quantized_cnn_width(
    seed: u64,
    width: Width,
) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    let layers = float_cnn(seed);
    let data = samples(seed + 1, 8, 2 * 8 * 8);
    let q = calibrate_with("random-cnn", &layers, &[1, 2, 8, 8], &[1, 3], &data, width)?;
    Ok((QuantModel::from_quantized(q)?, data))
}

/// A small random CNN of 5×5 kernels: conv (pad 2, `[2, 9, 9]` → 3 channels) → ReLU → conv
/// (no padding, → 2 channels of 5×5) → ReLU → dense (50 → 3). Its output rows are 9 and 5
/// wide, so a row of four neighbouring positions leaves groups past the row's end.
pub fn float_cnn5(seed: u64) -> Vec<FloatLayer> {
    use crate::geometry::Window;
    let mut rng = XorShift::new(seed);
    let mut conv = |ci: usize, co: usize, pad: usize| {
        let window = Window {
            input: [ci, 9, 9],
            kernel: [5, 5],
            stride: [1, 1],
            pads: [pad; 4],
            dilation: [1, 1],
        };
        random_conv(&mut rng, window, co, 1)
    };
    let (c1, c2) = (conv(2, 3, 2), conv(3, 2, 0));
    let dense = Dense {
        inputs: 50,
        outputs: 3,
        weights: (0..150).map(|_| rng.uniform(-0.3, 0.3)).collect(),
        bias: vec![0.0; 3],
        batch: 1,
    };
    let layer = |name: &str, op, relu, source: usize| FloatLayer {
        function: None,
        name: name.into(),
        op,
        relu,
        sources: vec![source],
    };
    vec![
        layer("conv1", LayerOp::Conv2d(c1), true, 0),
        layer("conv2", LayerOp::Conv2d(c2), true, 1),
        layer("fc", LayerOp::Dense(dense), false, 2),
    ]
}

/// A calibrated random CNN of 5×5 kernels (see [`float_cnn5`]).
pub fn quantized_cnn5(seed: u64) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    let layers = float_cnn5(seed);
    let data = samples(seed + 1, 8, 2 * 9 * 9);
    let q = calibrate("random-cnn5", &layers, &[1, 2, 9, 9], &[1, 3], &data)?;
    Ok((QuantModel::from_quantized(q)?, data))
}

/// A small random residual CNN on `[1, 2, 6, 6]`: conv → ReLU (a), depthwise dilated conv →
/// ReLU (b), add(b, a) → ReLU, average pool 3x3 (a non-power-of-two area), dense.
pub fn float_resnet(seed: u64) -> Vec<FloatLayer> {
    use crate::geometry::Window;
    use crate::ir::{Pool, PoolKind};
    let mut rng = XorShift::new(seed);
    // The second convolution is depthwise and dilated (3 groups of one channel, taps 2 apart).
    let mut conv = |ci: usize, groups: usize, dilation: usize| {
        let window = Window {
            input: [ci, 6, 6],
            kernel: [3, 3],
            stride: [1, 1],
            pads: [dilation; 4],
            dilation: [dilation; 2],
        };
        random_conv(&mut rng, window, 3, groups)
    };
    let (c1, c2) = (conv(2, 1, 1), conv(3, 3, 2));
    let dense = Dense {
        inputs: 12,
        outputs: 4,
        weights: (0..48)
            .map(|i| ((i * 37 % 17) as f32 - 8.0) / 20.0)
            .collect(),
        bias: vec![0.0; 4],
        batch: 1,
    };
    let layer = |name: &str, op, relu, sources: Vec<usize>| FloatLayer {
        function: None,
        name: name.into(),
        op,
        relu,
        sources,
    };
    let pool = Pool {
        kind: PoolKind::Average,
        window: Window {
            input: [3, 6, 6],
            kernel: [3, 3],
            stride: [3, 3],
            pads: [0; 4],
            dilation: [1, 1],
        },
        exclude_pad: false,
    };
    vec![
        layer("conv1", LayerOp::Conv2d(c1), true, vec![0]),
        layer("conv2", LayerOp::Conv2d(c2), true, vec![1]),
        layer(
            "residual",
            LayerOp::Add { subtract: false },
            true,
            vec![2, 1],
        ),
        layer("pool", LayerOp::Pool(pool), false, vec![3]),
        layer("fc", LayerOp::Dense(dense), false, vec![4]),
    ]
}

/// A calibrated random residual CNN (see [`float_resnet`]); with `subtract` the residual layer
/// computes `b - a`.
pub fn quantized_resnet_with(
    seed: u64,
    subtract: bool,
) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    let mut layers = float_resnet(seed);
    layers[2].op = LayerOp::Add { subtract };
    let data = samples(seed + 1, 8, 72);
    let q = calibrate("random-resnet", &layers, &[1, 2, 6, 6], &[1, 4], &data)?;
    Ok((QuantModel::from_quantized(q)?, data))
}

/// A calibrated random residual CNN (see [`float_resnet`]).
pub fn quantized_resnet(seed: u64) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    quantized_resnet_width(seed, Width::Narrow)
}

/// A calibrated random residual CNN (see [`float_resnet`]) with activations of `width`.
pub fn quantized_resnet_width(
    seed: u64,
    width: Width,
) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    let layers = float_resnet(seed);
    let data = samples(seed + 1, 8, 72);
    let q = calibrate_with(
        "random-resnet",
        &layers,
        &[1, 2, 6, 6],
        &[1, 4],
        &data,
        width,
    )?;
    Ok((QuantModel::from_quantized(q)?, data))
}

/// A calibrated random MLP `dims[0] -> dims[1] -> dims[2] -> dims[3]` whose first two layers
/// end in table functions `f1` and `f2` instead of ReLU.
pub fn quantized_mlp_with(
    seed: u64,
    dims: [usize; 4],
    f1: crate::spec::Function,
    f2: crate::spec::Function,
) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    let mut layers = float_mlp(seed, &dims);
    for (l, f) in layers.iter_mut().zip([f1, f2]) {
        l.relu = false;
        l.function = Some(f);
    }
    let data = samples(seed + 1, 8, dims[0]);
    let q = calibrate(
        "random-mlp-functions",
        &layers,
        &[1, dims[0]],
        &[1, dims[3]],
        &data,
    )?;
    Ok((QuantModel::from_quantized(q)?, data))
}

/// A one-head self-attention block on a `[1, 4, 8]` input, as a float graph: `q, k, v`
/// projections, `softmax(q kᵀ) v`, a Gelu, and a public constant added to the result.
/// Exercises gathers (transpose, broadcast, constants), products of activations, sums and
/// maxima over an axis, and the reciprocal table.
pub fn float_attention(seed: u64) -> crate::ir::Graph {
    use crate::ir::{Dense, Entry, Gather, Graph, MatMul, Node, Op, Pool, PoolKind};
    let (t, d) = (4usize, 8usize);
    let mut rng = XorShift::new(seed);
    let mut nodes: Vec<Node> = Vec::new();
    let mut push = |name: &str, op: Op, inputs: Vec<usize>| {
        nodes.push(Node {
            name: name.into(),
            op,
            inputs,
        });
        nodes.len()
    };
    let dense = |rng: &mut XorShift, scale: f32| {
        Op::Dense(Dense {
            inputs: d,
            outputs: d,
            weights: (0..d * d).map(|_| rng.uniform(-scale, scale)).collect(),
            bias: (0..d).map(|_| rng.uniform(-0.1, 0.1)).collect(),
            batch: t,
        })
    };
    let (wq, wk, wv) = (
        dense(&mut rng, 0.5),
        dense(&mut rng, 0.5),
        dense(&mut rng, 0.5),
    );
    let q = push("q", wq, vec![0]);
    let k = push("k", wk, vec![0]);
    let v = push("v", wv, vec![0]);
    let transpose = |rows: usize, cols: usize| {
        Op::Gather(Gather {
            shape: vec![cols, rows],
            ..Gather::transposed(rows, cols, 1)
        })
    };
    let kt = push("k_t", transpose(t, d), vec![k]);
    let mm = |m, k, n| Op::MatMul(MatMul { batch: 1, m, k, n });
    let s = push("scores", mm(t, d, t), vec![q, kt]);
    let broadcast = |rows: usize, cols: usize| {
        Op::Gather(Gather {
            entries: (0..rows * cols)
                .map(|o| Entry::Value {
                    input: 0,
                    index: o / cols,
                })
                .collect(),
            shape: vec![rows, cols],
        })
    };
    let grouped = push("scores/group", Op::Reshape(vec![t, 1, t]), vec![s]);
    let max = push(
        "scores/max",
        Op::Pool(Pool::reduce(PoolKind::Max, t, t)),
        vec![grouped],
    );
    let max_b = push("scores/max/broadcast", broadcast(t, t), vec![max]);
    let s2 = push("scores/flat", Op::Reshape(vec![t, t]), vec![s]);
    let shifted = push("scores/shift", Op::Sub, vec![s2, max_b]);
    let e = push(
        "scores/exp",
        Op::Activation(crate::spec::Function::Exp),
        vec![shifted],
    );
    let eg = push("scores/exp/group", Op::Reshape(vec![t, 1, t]), vec![e]);
    let sum = push(
        "scores/sum",
        Op::Pool(Pool::reduce(PoolKind::Sum, t, t)),
        vec![eg],
    );
    let inv = push(
        "scores/reciprocal",
        Op::Activation(crate::spec::Function::Reciprocal),
        vec![sum],
    );
    let inv_b = push("scores/reciprocal/broadcast", broadcast(t, t), vec![inv]);
    let p = push("attention", Op::Mul, vec![e, inv_b]);
    let o = push("context", mm(t, t, d), vec![p, v]);
    let g = push("gelu", Op::Activation(crate::spec::Function::Gelu), vec![o]);
    let c = push(
        "offset",
        Op::Gather(Gather {
            entries: (0..t * d)
                .map(|i| Entry::Const(0.25 * ((i % d) as f32 - 4.0) / 4.0))
                .collect(),
            shape: vec![t, d],
        }),
        vec![0],
    );
    let out = push("output", Op::Add, vec![g, c]);
    Graph {
        input_shape: vec![1, t, d],
        nodes,
        output: out,
        output_parts: Vec::new(),
    }
}

/// The attention block of [`float_attention`], calibrated on random inputs in `[-1, 1)`.
pub fn quantized_attention(seed: u64) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    quantized_attention_width(seed, Width::Narrow)
}

/// [`quantized_attention`] with activations of `width`.
pub fn quantized_attention_width(
    seed: u64,
    width: Width,
) -> Result<(QuantModel, Vec<Vec<f32>>), CoreError> {
    let graph = float_attention(seed);
    let layers = crate::ir::lower(&graph)?;
    let mut rng = XorShift::new(seed + 7);
    let data: Vec<Vec<f32>> = (0..8)
        .map(|_| {
            (0..graph.input_len())
                .map(|_| rng.uniform(-1.0, 1.0))
                .collect()
        })
        .collect();
    let q = calibrate_with(
        "random-attention",
        &layers,
        &graph.input_shape,
        &graph.output_shape()?,
        &data,
        width,
    )?;
    Ok((QuantModel::from_quantized(q)?, data))
}
